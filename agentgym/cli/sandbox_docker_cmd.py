"""``agentgym sandbox build-image``: build the docker backend's images without a registry.

``agentgym sandbox build-image`` debootstraps the base image (Debian minbase + python3, a few
minutes the first time; needs root, ``debootstrap`` and a Docker engine) and prints its tag.
``--python-packages 'numpy,pytest==8.3.2'`` (repeatable, comma-separated) adds a pip layer on it.
Tags derive from the inputs, so a second run prints the same tag at once.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer


def split_packages(values: list[str] | None) -> list[str]:
    """Requirement strings from repeated and/or comma-separated option values."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def build_image_command(
    python_packages: Annotated[
        list[str] | None,
        typer.Option(
            "--python-packages",
            "-p",
            metavar="REQ[,REQ...]",
            help="pip requirement(s) to layer on the base image; repeatable or comma-separated.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the tag exists.")] = False,
    start_engine: Annotated[
        bool, typer.Option("--start-engine/--no-start-engine", help="Start dockerd if none answers.")
    ] = True,
) -> None:
    """Build the sandbox base image (debootstrap + docker import), plus pip layers; print the tag."""
    from agentgym.sandbox.engine import docker_client, ensure_engine
    from agentgym.sandbox.images import build_base_image, build_image

    def log(message: str) -> None:
        typer.echo(message, err=True)

    ensure_engine(start=start_engine)
    client = docker_client()
    started = time.monotonic()
    base = build_base_image(client=client, force=force, log=log)
    tag = build_image(split_packages(python_packages), base=base, client=client, force=force, log=log)
    log(f"built or found in {time.monotonic() - started:.1f}s")
    typer.echo(tag)
