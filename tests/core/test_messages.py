import base64
import json
import struct
import zlib

import pytest

from agentgym.core.errors import ConfigError
from agentgym.core.messages import ImagePart, Message, TextPart, ToolCall, clean_text, to_openai


def tiny_png() -> bytes:
    raw = b"\x00\xff\x00\x00"

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def test_text_message_round_trips_through_openai_format():
    m = Message("user", "hello")
    assert m.to_dict() == {"role": "user", "content": "hello"}
    assert Message.from_dict(m.to_dict()) == m


def test_image_parts_travel_as_base64_png_data_urls():
    png = tiny_png()
    m = Message("user", (TextPart("look"), ImagePart(png)))
    wire = m.to_dict()
    url = wire["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == png
    back = Message.from_dict(json.loads(json.dumps(wire)))
    assert back == m and back.images == [png] and back.text == "look"


def test_image_part_rejects_non_png():
    with pytest.raises(ConfigError):
        ImagePart(b"GIF89a....")


def test_tool_calls_and_tool_results():
    call = ToolCall("c1", "search", '{"q": "x"}')
    m = Message("assistant", "", tool_calls=[call])
    assert isinstance(m.tool_calls, tuple)
    wire = m.to_dict()
    assert wire["tool_calls"][0] == {
        "id": "c1",
        "type": "function",
        "function": {"name": "search", "arguments": '{"q": "x"}'},
    }
    assert Message.from_dict(wire) == m
    with pytest.raises(ConfigError, match="tool_call_id"):
        Message("tool", "result")


def test_tool_call_arguments_given_as_object_are_serialized():
    call = ToolCall.from_dict({"id": "a", "function": {"name": "f", "arguments": {"x": 1}}})
    assert json.loads(call.arguments) == {"x": 1}


@pytest.mark.parametrize(
    "bad",
    [{"content": "no role"}, {"role": "robot", "content": ""}, {"role": "user", "content": 3}],
)
def test_malformed_dicts_raise_config_error(bad):
    with pytest.raises(ConfigError):
        Message.from_dict(bad)


def test_clean_text_replaces_lone_surrogates_only():
    assert clean_text("ok é 😀") == "ok é 😀"
    cleaned = clean_text("a\ud800b")
    assert cleaned == "a\ufffdb"
    cleaned.encode("utf-8")


def test_to_openai_lists_dicts():
    assert to_openai([Message("system", "s"), Message("user", "u")])[1]["role"] == "user"
