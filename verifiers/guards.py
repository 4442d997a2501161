r"""Cheap checks that reject degenerate or adversarial responses before any judge model sees them.

LLM judges hand out false positives to "master keys": a lone ``:`` or ``.``, a reasoning opener
such as ``Thought process:`` or ``Let's solve this problem step by step.`` (Zhao et al., *One Token
to Fool LLM-as-a-Judge*; the *Pitfalls of Rule- and Model-based Verifiers* paper sees the same
hacking during RL), and to text addressed to the grader. :func:`degenerate_reason` names what is
wrong with such a response, or returns None. It is a pure function of the text, linear in its
length, and errs on the side of rejecting: a rejected response is scored 0 without a judge call.

Checks, in order: empty or whitespace; chat-template control tokens; prompt injection addressed to
the grader (case-insensitive, word-bounded, after NFKC folding, zero-width removal and mapping of
Cyrillic/Greek look-alike letters; a few phrases in Chinese, Japanese, Spanish, French, German and
Russian); punctuation/symbol-only text; markup without content; master-key openers with nothing
after them; and gibberish (long character runs, token loops, text that compresses to almost
nothing, keyboard mashing, control characters). Valid short answers (``7``, ``-3.5``, ``\frac{3}{4}``,
``x = 2``, ``∞``, ``{}``, code) pass: the gibberish heuristics ignore LaTeX commands and digits.

:func:`vacuous_answer_reason` checks an extracted final answer against the reference: a verdict
word (``Yes``) for a non-yes/no question, a lone variable for a number, look-alike digits (``l5``)
and hedges listing the reference among other values (``15 or 16``).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
import zlib
from collections import Counter

__all__ = ["MASTER_KEYS", "degenerate_reason", "injection_reason", "is_degenerate", "vacuous_answer_reason"]

#: Openers and lone tokens that fool LLM judges when sent as the whole response.
MASTER_KEYS: tuple[str, ...] = (
    "thought process",
    "let's solve this problem step by step",
    "let us solve this problem step by step",
    "let's think step by step",
    "let's solve this step by step",
    "let me solve this step by step",
    "let me think step by step",
    "step by step",
    "solution",
    "the solution",
    "answer",
    "the answer",
    "the answer is",
    "the final answer is",
    "final answer",
    "explanation",
    "the correct answer",
    "correct answer",
    "the right answer",
    "the reference answer",
    "the expected answer",
    "see above",
    "as above",
    "as shown above",
    "reasoning",
    "step 1",
    "proof",
    "解",
    "解答",
    "解析",
    "答",
    "答案",
    "かいせつ",
    "解説",
    "回答",
    "respuesta",
    "solución",
    "réponse",
    "lösung",
    "antwort",
    "ответ",
    "решение",
    "풀이",
    "답",
)
# Answers with no letters or digits that are still real answers.
_SYMBOL_ANSWERS = frozenset({"{}", "\\{\\}", "[]", "()"})
# Symbols that carry an answer on their own (the empty set, infinity).
_ANSWER_SYMBOLS = frozenset("∅∞")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
# Look-alike letters from Cyrillic and Greek mapped to Latin, for matching English phrases.
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁɡһӏⅰοαεικνρτυχ",
    "aeopcyxijsdghlioaeikvptux",
)

_CONTROL_TOKENS = re.compile(
    r"<\|(?:im_start|im_end|endoftext|eot_id|start_header_id|end_header_id|system|user|assistant)\|>"
    r"|\[/?INST\]|<</?SYS>>|<\|begin_of_text\|>",
    re.IGNORECASE,
)
_GRADER = (
    r"(?:grader|judge|evaluator|verifier|reviewer|assessor|examiner|marker|grading (?:model|system)"
    r"|reward model|llm judge)"
)
_INJECTION_EN = [
    (
        r"\b(?:ignore|disregard|forget|override|bypass)\b(?:\W+\w+){0,4}?\W+(?:instructions?|prompts?|"
        r"guidelines|rubric|grading criteria|system prompt"
        r"|(?:previous|prior|above|earlier|your|all|the) rules)\b",
        "tells the grader to ignore its instructions",
    ),
    (r"\b(?:new|updated|revised) (?:instructions?|task|rules?)\s*:", "gives the grader new instructions"),
    (r"\bsystem prompt\b", "talks about the grader's system prompt"),
    (
        r"\b(?:the|this|my|your|above|candidate'?s?|final) (?:answer|response|solution|result)s? "
        r"(?:is|are|was|has been|should be|must be) (?:definitely |certainly |fully |100% )?"
        r"(?:correct|right|valid|accurate)\b",
        "asserts its own correctness",
    ),
    (
        r"\b(?:grade|mark|score|rate|judge|evaluate|label|classify|consider|treat|count|accept)\b"
        r"(?:\W+\w+){0,3}?\W+as\W+(?:being\W+)?(?:correct|right|passed|passing|a pass|full marks|full credit|"
        r"acceptable|accepted)\b",
        "asks to be graded as correct",
    ),
    (
        rf"\b(?:you are|you're|dear|attention|note (?:to|for)|hey|hello|hi|message for|instructions for) "
        rf"(?:the |an |a |my |our )?{_GRADER}s?\b"
        r"|\bas (?:the|an?|my|our) (?:grader|evaluator|verifier|assessor|grading (?:model|system)"
        r"|reward model|llm judge|ai judge)\b|\bas the judge\b(?! of)",
        "addresses the grader",
    ),
    (
        r"\b(?:score|grade|reward|rating)\s*[:=]\s*(?:1|1\.0|10/10|1/1|100%|full|max(?:imum)?|perfect)(?![\d.])",
        "writes its own score",
    ),
    (r"\bverdict\s*[:=]\s*\**\s*(?:correct|yes|pass|true)\b", "writes its own verdict"),
    (
        r"\b(?:give|award|assign)\b(?:\W+\w+){0,2}?\W+(?:full|maximum|max|perfect|all) "
        r"(?:marks?|credit|points?|score|reward)\b",
        "asks for full marks",
    ),
    (
        r"\b(?:you must|you should|you will|please|just) "
        r"(?:output|respond|answer|say|reply|return|print|write) "
        r"(?:with )?[\"'`]?(?:correct|yes|true|pass|passed|verdict)\b",
        "dictates the grader's output",
    ),
    (
        r"[\"'](?:correct|is_correct|verdict|judgement|judgment|score|passed)[\"']\s*:\s*"
        r"(?:true|1|[\"'](?:correct|yes|true)[\"'])",
        "embeds a verdict record",
    ),
    (
        r"\b(?:matches|match|equals|equal to|agrees with|same as|identical to|consistent with) (?:the )?"
        r"(?:reference|gold|ground[- ]truth|expected|official|given|correct) (?:answer|solution)\b",
        "claims to match the reference",
    ),
    (r"\bthe (?:reference|gold|ground[- ]truth) (?:answer|solution)\b", "talks about the grader's reference"),
]
_INJECTION_INTL = [
    (r"(?:忽略|无视|忽视)(?:之前|以上|前面|上面|所有|先前)", "tells the grader to ignore its instructions"),
    (r"(?:答案|回答|解答)(?:是|为)?(?:完全)?正确", "asserts its own correctness"),
    (r"(?:判|评|打分|判定|评为|判为)[为成]?(?:正确|满分)", "asks to be graded as correct"),
    (r"(?:以前|前|上記)の(?:指示|命令|指令)を無視", "tells the grader to ignore its instructions"),
    (r"(?:この|その)?(?:答え|回答|解答)は正(?:しい|解)", "asserts its own correctness"),
    (
        r"\bignora(?:r)? (?:las |todas las )?(?:instrucciones|reglas)",
        "tells the grader to ignore its instructions",
    ),
    (r"\bla respuesta es (?:correcta|válida)\b", "asserts its own correctness"),
    (
        r"\bignore[zr]? (?:les |toutes les )?(?:instructions|consignes|règles)",
        "tells the grader to ignore its instructions",
    ),
    (r"\bla réponse est (?:correcte|juste|bonne)\b", "asserts its own correctness"),
    (
        r"\bignorier(?:e|en)? (?:alle |die )?(?:vorherigen |obigen )?(?:anweisungen|regeln)",
        "tells the grader to ignore its instructions",
    ),
    (r"\bdie antwort ist (?:richtig|korrekt)\b", "asserts its own correctness"),
    (
        r"игнорир\w* (?:все )?(?:предыдущ\w+ )?(?:инструкц\w+|указани\w+|правил\w*)",
        "tells the grader to ignore its instructions",
    ),
    (r"ответ (?:является )?(?:верн\w+|правильн\w+)", "asserts its own correctness"),
]
_INJECTIONS = [(re.compile(p, re.IGNORECASE), why) for p, why in _INJECTION_EN + _INJECTION_INTL]

_MARKUP = re.compile(
    r"<\s*/?\s*[A-Za-z][\w:-]*(?:\s[^<>]*)?/?\s*>"  # html/xml tags
    r"|\\(?:boxed|fbox|text|textbf|mathrm|mathbf|displaystyle|left|right|quad|qquad|,|;|!| )"
    r"|\\[\[\]()]|\$+|```\w*|`+|\*\*|__|^\s*#+\s*|^\s*>\s*|^\s*[-*+]\s+|&nbsp;|<br\s*/?>",
    re.MULTILINE,
)
_LATEX_CMD = re.compile(r"\\[A-Za-z]+")
_WORD = re.compile(r"[A-Za-z]{4,}")
_VOWELS = set("aeiouyAEIOUY")
_CONSONANT_RUN = re.compile(r"[b-df-hj-np-tv-xzB-DF-HJ-NP-TV-XZ]{5,}")
_LOOP_TOKEN = re.compile(r"[^\W\d_]+")
_OPENER_ONLY = re.compile(
    r"^(?:to (?:solve|find|answer|determine|compute|calculate)|let(?:'s| us| me) (?:solve|think|start|begin|"
    r"find|compute|calculate|break|work|analy[sz]e|figure|determine|approach|tackle)"
    r"|we (?:need|want|have) to|"
    r"i (?:need|will|'ll) (?:to )?(?:solve|find|compute|think)|first,? (?:we|let|i)\b|in order to|step 1|"
    r"(?:okay|alright|ok),? (?:so|let))\b",
    re.IGNORECASE,
)


def _normalize(text: str) -> str:
    """NFKC, no zero-width characters, case-folded, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    return " ".join(text.casefold().split())


def injection_reason(text: str) -> str | None:
    """Why ``text`` reads as an instruction to the grader, or None."""
    norm = _normalize(text)
    if _CONTROL_TOKENS.search(norm):
        return "prompt injection: contains chat-template control tokens"
    folded = norm.translate(_CONFUSABLES)
    variants = (norm,) if folded == norm else (norm, folded)
    for pattern, why in _INJECTIONS:
        for variant in variants:
            match = pattern.search(variant)
            if match:
                return f"prompt injection: {why} ({match.group(0)[:60]!r})"
    return None


def _is_content_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LN" or ch in _ANSWER_SYMBOLS


_KEYS_LONGEST_FIRST = sorted(MASTER_KEYS, key=len, reverse=True)
_PUNCT_STRIP = " \t\n.:,;!?-—*#>\"'`()[]{}…\u3002\u3001\uff1a\uff0c\uff1b\uff01\uff1f"


def _only_master_keys(norm: str, max_keys: int = 64) -> bool:
    """True when ``norm`` is nothing but master-key openers and punctuation (linear time)."""
    n = len(norm)
    pos = 0
    for _ in range(max_keys + 1):
        while pos < n and norm[pos] in _PUNCT_STRIP:
            pos += 1
        if pos >= n:
            return True
        for key in _KEYS_LONGEST_FIRST:
            if norm.startswith(key, pos):
                end = pos + len(key)
                wide = unicodedata.east_asian_width(key[-1]) in "WF"
                if end < n and key[-1].isalnum() and norm[end].isalnum() and not wide:
                    continue  # "solutions" is not "solution" (CJK words have no spaces to check)
                pos = end
                break
        else:
            return False
    return False


def _looks_random(token: str) -> bool:
    """Mixed-case letters with digits that flip case constantly (keys, base64, keyboard noise)."""
    letters = [ch for ch in token if ch.isascii() and ch.isalpha()]
    if len(letters) < 12 or not any(ch.isdigit() for ch in token) or _LATEX_CMD.search(token):
        return False
    flips = sum(1 for a, b in itertools.pairwise(letters) if a.isupper() != b.isupper())
    return flips >= 0.3 * (len(letters) - 1)


def _gibberish_reason(text: str) -> str | None:
    stripped = "".join(text.split())
    if not stripped:
        return None
    # Long runs of one letter ("aaaaaaaa"); rules like "-----" or "=====" are fine.
    run = re.search(r"([^\W\d_])\1{24,}", stripped)
    if run:
        return f"gibberish: a run of {run.group(1)!r} repeated"
    bad = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs") and ch not in "\n\t\r")
    bad += text.count("\ufffd")
    if bad and bad >= 0.2 * len(stripped):
        return "gibberish: mostly control or undecodable characters"
    words = _LOOP_TOKEN.findall(text.casefold())
    if len(words) >= 8:
        top, count = Counter(words).most_common(1)[0]
        few_types = 10 <= len(words) <= 200 and len(set(words)) <= 0.2 * len(words)
        if count >= 0.6 * len(words) or few_types:  # long texts: the compression check below
            return f"gibberish: a loop of the word {top[:20]!r} ({count} of {len(words)} words)"
    if len(text) >= 400:
        ratio = len(zlib.compress(text.encode("utf-8", "replace"), 6)) / len(text.encode("utf-8", "replace"))
        if ratio < 0.06:
            return f"gibberish: repetitive text (compresses to {ratio:.1%})"
    plain = _LATEX_CMD.sub(" ", text)
    candidates = _WORD.findall(plain)
    if len(candidates) >= 3:
        mashed = [w for w in candidates if not (set(w) & _VOWELS) or _CONSONANT_RUN.search(w)]
        if len(mashed) >= 0.5 * len(candidates):
            return f"gibberish: unpronounceable words ({', '.join(mashed[:3])})"
    for token in text.split():
        if len(token) >= 20 and _looks_random(token):
            return f"gibberish: a random-looking string ({token[:20]!r}...)"
    if len(stripped) >= 64:
        counts = Counter(stripped)
        n = len(stripped)
        entropy = -sum(c / n * math.log2(c / n) for c in counts.values())
        spaces = len(text) - len(stripped)
        if entropy > 5.6 and spaces < 0.02 * len(text) and not _LATEX_CMD.search(text):
            return f"gibberish: random-looking characters ({entropy:.1f} bits/char)"
    return None


def degenerate_reason(response: str) -> str | None:
    r"""Why ``response`` must not reach a judge (empty, master key, injection, gibberish...), or None.

    >>> degenerate_reason("Thought process:")
    "master key: 'thought process:' has no content after the opener"
    >>> degenerate_reason("\\frac{3}{4}") is None
    True
    """
    if not isinstance(response, str):
        return f"not text ({type(response).__name__})"
    if not response.strip():
        return "empty or whitespace-only response"
    norm = _normalize(response)
    if not norm:
        return "empty after removing invisible characters"
    injected = injection_reason(response)
    if injected:
        return injected
    if norm in _SYMBOL_ANSWERS:
        return None
    if not any(_is_content_char(ch) for ch in norm):
        return f"punctuation or symbols only ({norm[:20]!r})"
    bare = _MARKUP.sub(" ", response)
    bare_norm = _normalize(bare)
    if not any(_is_content_char(ch) for ch in bare_norm):
        return "markup without content"
    if _only_master_keys(norm) or _only_master_keys(bare_norm):
        return f"master key: {norm[:40]!r} has no content after the opener"
    if (
        len(norm) <= 200
        and _OPENER_ONLY.match(norm)
        and not re.search(r"[\d=]|\\boxed|<answer>", norm)
        and norm.count(".") <= 1
    ):
        return "master key: a reasoning opener without an answer"
    return _gibberish_reason(response)


_VERDICT_WORDS = frozenset({"yes", "no", "true", "false", "correct", "incorrect", "right", "wrong", "ok"})
_TEXT_WRAP = re.compile(r"\\(?:text|textbf|textrm|mathrm|mbox)\s*\{([^{}]*)\}")
_ALTERNATIVES = re.compile(r",|;|\bor\b|\\lor\b|\\vee\b")
_SPACES = re.compile(r"\s+|\$")
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*(?:/\d+)?|-?\\frac\{\d+\}\{\d+\}")
_LOOKALIKE_NUMBER = re.compile(r"(?=\S*\d)(?=\S*[lIO|])[\dlIO|.,/]{2,}")


def _bare_answer(text: str) -> str:
    return _normalize(_TEXT_WRAP.sub(r"\1", text)).strip(_PUNCT_STRIP)


def _parts(text: str) -> list[str]:
    return [p for p in (_SPACES.sub("", part) for part in _ALTERNATIVES.split(text)) if p]


def vacuous_answer_reason(answer: str, reference: str) -> str | None:
    """Why a final ``answer`` dodges a question with this ``reference``, or None.

    Catches judge-directed answers that :func:`degenerate_reason` lets through because they are
    valid elsewhere: a verdict word (``Yes``, ``Correct``) when the reference is not one; a lone
    variable letter for a numeric reference; a number spelled with look-alike letters (``l5`` for
    15); and a hedge, several alternatives that include the reference (``15 or 16``, ``14, 15, 16``).
    """
    bare, ref = _bare_answer(answer), _bare_answer(reference)
    if bare == ref:
        return None
    if bare in _VERDICT_WORDS and ref not in _VERDICT_WORDS:
        return f"a verdict word ({bare!r}) as the answer to a question whose answer is not one"
    if len(bare) == 1 and bare.isalpha() and _NUMBER.fullmatch(ref):
        return f"a bare variable ({bare!r}) for a numeric answer"
    if _LOOKALIKE_NUMBER.fullmatch(answer.strip()) and not _LOOKALIKE_NUMBER.fullmatch(reference.strip()):
        return f"a number spelled with look-alike letters ({answer.strip()[:20]!r})"
    mine, theirs = set(_parts(bare)), set(_parts(ref))
    if len(mine) > 1 and theirs and theirs < mine:
        return f"hedges between {len(mine)} answers that include the reference"
    return None


def is_degenerate(response: str) -> bool:
    """True when :func:`degenerate_reason` rejects ``response``."""
    return degenerate_reason(response) is not None
