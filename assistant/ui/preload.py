"""Import the model stack on the worker without starving the GUI thread of the GIL.

Measured on the 2-core dev machine: importing torch, transformers, sentence-transformers and
faiss on the worker froze the event loop for up to 0.6 s at a time, for two reasons.
1. The import creates ~500k objects, so full (generation 2) garbage collections run again and
   again, each longer than the last, all holding the GIL. Importing with the collector paused
   and then ``gc.freeze()`` (the imported modules are permanent) removes them.
2. ``dlopen`` of libtorch (hundreds of MB) runs inside the extension import with the GIL held.
   Calling libc's ``dlopen`` first through ctypes releases the GIL during the load; the later
   ``import torch`` then finds the libraries already mapped.
With both, no pause of the GUI thread above 0.1 s remains during start-up.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import importlib.util
import logging
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

_TORCH_LIBS = ("libc10.so", "libtorch_cpu.so", "libtorch.so", "libtorch_python.so")
# Every module whose import pulls in torch, transformers, faiss, pypdf or trafilatura.
# Besides our own modules, the libraries they load lazily on first use (listed by diffing
# sys.modules before and after a first ingest + ask): ~2,500 modules in all.
_MODULES = (
    "torch",
    "assistant.nlp.models",
    "retrieval.embedding",
    "retrieval.library",
    "assistant.nlp.reader",
    "assistant.nlp.taggers",
    "sentence_transformers",
    "transformers.models.bert.modeling_bert",
    "transformers.models.auto.modeling_auto",
    "accelerate",
    "sympy",
    "scipy.sparse",
    "sklearn",
    "faiss",
    "pypdf",
    "trafilatura",
)
_done = False


def _preload_torch_libraries() -> None:
    """Map libtorch with libc's dlopen (a ctypes call releases the GIL); Linux only."""
    if not sys.platform.startswith("linux"):
        return
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return
    lib_dir = Path(spec.origin).parent / "lib"
    libc = ctypes.CDLL(None)
    dlopen = libc.dlopen
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    for name in _TORCH_LIBS:
        path = lib_dir / name
        if path.is_file() and not dlopen(str(path).encode(), ctypes.RTLD_GLOBAL | 2):  # RTLD_NOW
            log.debug("could not preload %s", path)


def preload_model_stack() -> float:
    """Import the heavy modules (once, on the calling worker thread); returns seconds spent."""
    global _done
    if _done:
        return 0.0
    _done = True
    started = time.perf_counter()
    try:
        _preload_torch_libraries()
    except (OSError, AttributeError) as err:  # not fatal: the import below loads them anyway
        log.debug("torch library preload skipped: %s", err)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for name in _MODULES:
            try:
                importlib.import_module(name)
            except Exception as err:  # noqa: BLE001 - the assistant reports it when used
                log.debug("preload: %s not importable: %s", name, err)
    finally:
        gc.freeze()  # imported modules live for the whole run: never scan them again
        if was_enabled:
            gc.enable()
    seconds = time.perf_counter() - started
    log.info("model libraries imported in %.1f s", seconds)
    return seconds
