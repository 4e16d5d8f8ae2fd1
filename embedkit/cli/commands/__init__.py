"""One module per feature's commands; :data:`embedkit.cli.base.COMMAND_MODULES` lists them."""
