"""The native word2vec kernel: TensorFlow CPU ops (``kernels/word2vec_ops.cc``) that step batches example by example,
as gensim's inner loop does, built with the machine's C++ compiler on first use and cached.

The ops read and write the model's two tables (its Keras variables) in place: ``EmbedkitCbowSteps`` for CBOW
batches, ``EmbedkitSgSteps`` for skip-gram ones (:class:`embedkit.train.batches.BatchMaker`'s layouts, grouped by
:func:`~embedkit.train.batches.group_batches`). Each example is scored and updated before the next one, as gensim's
``fast_sentence_cbow_neg`` / ``fast_sentence_sg_neg``; threads may run them at once on the same tables (Hogwild,
as gensim's workers). They are what ``CBOWConfig(kernel="native")`` steps with, and what ``kernel="auto"`` picks
on a CPU when the kernel builds; the XLA update (:mod:`embedkit.train.update`) is the other kernel (GPUs,
``tf.distribute``, no compiler).

The library is built once per source, TensorFlow build, compiler and CPU into ``$EMBEDKIT_KERNELS`` (default
``$EMBEDKIT_HOME/kernels``), written to a temporary name and renamed into place; the compiler is ``$CXX`` or
``c++``. :func:`load_word2vec_ops` raises :class:`NativeKernelError` (one line) when it cannot be built.

Example:
    ops = load_word2vec_ops()        # the first call compiles (seconds), later ones load the cached library
    ops.embedkit_cbow_steps(model.input_table().handle, model.output_table().handle, span, window_mask,
                            target, negatives, alpha, window=5)   # -> [loss sum, examples], float64
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from embedkit.errors import EmbedkitError

log = logging.getLogger("embedkit.train.native")

SOURCE = Path(__file__).resolve().parent / "kernels" / "word2vec_ops.cc"
COMPILE_TIMEOUT = 600


class NativeKernelError(EmbedkitError):
    """The native kernel could not be built or loaded here (the message says why, in one line)."""


def kernels_dir() -> Path:
    """Where built kernels are kept: ``$EMBEDKIT_KERNELS``, else ``$EMBEDKIT_HOME/kernels``."""
    env = os.environ.get("EMBEDKIT_KERNELS")
    if env:
        return Path(env).expanduser()
    from embedkit.vectors.home import home_dir

    return home_dir() / "kernels"


def _compiler() -> str:
    cxx = os.environ.get("CXX") or "c++"
    found = shutil.which(cxx)
    if found is None:
        raise NativeKernelError(f"The native word2vec kernel needs a C++ compiler (set CXX, or train with "
                                f"kernel='xla'). Received: no {cxx!r} on PATH")
    return found


def _cpu_identity() -> str:
    """What ``-march=native`` compiles for: the CPU's model and flags (a kernel built for another CPU may not run)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            lines = [ln for ln in fh if ln.startswith(("model name", "flags", "Features", "CPU part"))]
        return "".join(sorted(set(lines)))
    except OSError:  # pragma: no cover - not Linux
        return platform.processor()


def _build_flags(tf: Any) -> tuple[list[str], list[str]]:
    return list(tf.sysconfig.get_compile_flags()), list(tf.sysconfig.get_link_flags())


@functools.lru_cache(maxsize=None)
def _build_key(cxx: str, tf_version: str, flags: str) -> str:
    """A digest of the source, TensorFlow's version and flags, the compiler's version and the CPU."""
    try:
        version = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise NativeKernelError(f"The C++ compiler {cxx!r} does not run (set CXX, or train with kernel='xla'). "
                                f"Received: {e}") from None
    digest = hashlib.sha256()
    for part in (SOURCE.read_bytes(), tf_version.encode(), flags.encode(), version.encode(),
                 _cpu_identity().encode(), platform.machine().encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def library_path(tf: Any, cxx: str) -> Path:
    """The cached library's path for this source, TensorFlow, compiler and CPU."""
    return kernels_dir() / f"word2vec_ops-{_build_key(cxx, tf.__version__, repr(_build_flags(tf)))}.so"


def _compile(cxx: str, tf: Any, target: Path) -> None:
    """Build the library at ``target`` through a temporary file renamed into place (:func:`atomic_path`: whole or
    absent, so another process may load it at once); something other than a file already there is refused."""
    from embedkit.files.atomic import atomic_path

    if os.path.lexists(target):
        raise NativeKernelError(f"Expected a built kernel file or nothing at {target} (set EMBEDKIT_KERNELS, or train "
                                f"with kernel='xla'). Received: something that is not a regular file")
    cflags, lflags = _build_flags(tf)
    try:
        with atomic_path(target) as tmp:
            base = [cxx, "-std=c++17", "-shared", "-fPIC", "-O3", "-fopenmp-simd", "-w", str(SOURCE), "-o", str(tmp),
                    *cflags, *lflags]
            for extra in (["-march=native"], []):  # a compiler without -march=native builds for its default target
                try:
                    done = subprocess.run(base[:1] + extra + base[1:], capture_output=True, text=True,
                                          timeout=COMPILE_TIMEOUT)
                except subprocess.TimeoutExpired:
                    raise NativeKernelError(f"Building the native word2vec kernel took over {COMPILE_TIMEOUT} s "
                                            f"(train with kernel='xla'). Received: {cxx}") from None
                if done.returncode == 0 and tmp.is_file():
                    return
            first = next((ln.strip() for ln in done.stderr.splitlines() if "error" in ln), done.stderr.strip()[-200:])
            raise NativeKernelError(f"The native word2vec kernel did not compile with {cxx} (train with "
                                    f"kernel='xla'). Received: {first[:300]}")
    except NativeKernelError:
        raise
    except EmbedkitError as e:  # the directory cannot be made or written
        raise NativeKernelError(f"The native word2vec kernel needs a writable directory (set EMBEDKIT_KERNELS, or "
                                f"train with kernel='xla'). {e}") from None


@functools.lru_cache(maxsize=None)
def _load(path: str) -> Any:
    import tensorflow as tf

    try:
        return tf.load_op_library(path)
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError, OSError) as e:
        raise NativeKernelError(f"The native word2vec kernel {path} does not load (delete it to rebuild, or train "
                                f"with kernel='xla'). Received: {str(e).splitlines()[0][:300]}") from None


def load_word2vec_ops() -> Any:
    """The loaded ops module (``embedkit_cbow_steps``, ``embedkit_sg_steps``), built first if need be.

    Raises:
        NativeKernelError: no compiler, a failed build, or a library that does not load.
    """
    from embedkit.runtime import import_tensorflow

    tf = import_tensorflow()
    cxx = _compiler()
    path = library_path(tf, cxx)
    if not path.is_file():
        log.info("building the native word2vec kernel with %s into %s", cxx, path.parent)
        _compile(cxx, tf, path)
    return _load(str(path))


def choose_kernel(kernel: str, *, distributed: bool) -> str:
    """``"native"`` or ``"xla"`` for ``CBOWConfig.kernel`` (``auto``: native on a CPU when it builds).

    Raises:
        EmbedkitError: ``native`` under a distribution strategy; :class:`NativeKernelError` when ``native`` was asked
            for and cannot be built.
    """
    if kernel == "xla":
        return "xla"
    if distributed:
        if kernel == "native":
            raise EmbedkitError("The native kernel trains in one process on the CPU; distributed runs use the XLA "
                                "update. Received: kernel='native' with a distribution strategy")
        return "xla"
    if kernel == "auto":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return "xla"
        try:
            load_word2vec_ops()
        except NativeKernelError as e:
            log.warning("training with the XLA update: %s", e)
            return "xla"
        return "native"
    load_word2vec_ops()
    return "native"
