"""Regenerate ``wordlist.py`` from ``wordfreq`` (``python -m agentgym.tasks.games.build_wordlist``).

Five-letter lower-case ASCII words among wordfreq's 80,000 most frequent English words, most
frequent first (so a prefix of the list is an easier vocabulary). wordfreq's list is built from
web text, so it holds some names and loan words; they stay, as valid guesses and answers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOP_N = 80_000
LENGTH = 5
OUTPUT = Path(__file__).with_name("wordlist.py")


def build() -> list[str]:
    """The filtered words, most frequent first."""
    from wordfreq import top_n_list

    words = [
        w for w in top_n_list("en", TOP_N) if len(w) == LENGTH and w.isascii() and w.isalpha() and w.islower()
    ]
    return list(dict.fromkeys(words))


def main() -> None:
    """Write ``wordlist.py``."""
    from importlib.metadata import version

    words = build()
    lines = [" ".join(words[i : i + 16]) for i in range(0, len(words), 16)]
    OUTPUT.write_text(
        '"""Five-letter words by frequency (made by ``build_wordlist.py`` from wordfreq; do not edit)."""\n\n'
        f"WORDFREQ_VERSION = {version('wordfreq')!r}\n\n"
        '#: Most frequent first, space separated.\nWORDS_TEXT = """\n' + "\n".join(lines) + '\n"""\n\n'
        "WORDS: tuple[str, ...] = tuple(WORDS_TEXT.split())\n"
    )
    subprocess.run([sys.executable, "-m", "ruff", "format", str(OUTPUT)], check=False)  # house style
    print(f"{len(words)} words")


if __name__ == "__main__":
    main()
