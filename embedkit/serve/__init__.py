"""`embedkit serve`: vector sets over HTTP -- a versioned JSON API and an explorer page -- read-only.

Made of one concept per module: :mod:`~embedkit.serve.sets` (the served sets, opened once),
:mod:`~embedkit.serve.service` (what each endpoint computes, through :mod:`embedkit.search.queries`),
:mod:`~embedkit.serve.batching` (concurrent searches share one FAISS call), :mod:`~embedkit.serve.routes`
(the endpoints, declared once), :mod:`~embedkit.serve.params` (strict request parsing),
:mod:`~embedkit.serve.errors` (one JSON error shape), :mod:`~embedkit.serve.limits` (the body limit),
:mod:`~embedkit.serve.openapi` (``/openapi.json``), :mod:`~embedkit.serve.explorer` (the page's files,
package data), :mod:`~embedkit.serve.app` (``create_app``) and :mod:`~embedkit.serve.server` (uvicorn,
signals). Starlette and uvicorn come with the ``serve`` extra; nothing here imports TensorFlow.
"""
