"""``python -m embedkit``."""

from embedkit.cli import main

if __name__ == "__main__":
    main()
