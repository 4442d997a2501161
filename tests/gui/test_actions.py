"""The unified action space: text form, tool calls and the errors an agent gets back."""

import json

import pytest

from agentgym.core.messages import Message, ToolCall
from agentgym.environments.gui.actions import ActionError, GuiAction, parse_action


def act(text: str) -> GuiAction:
    return parse_action(Message("assistant", text))


def call(name: str, **args) -> Message:
    return Message("assistant", "", tool_calls=(ToolCall("c1", name, json.dumps(args)),))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("click(12)", GuiAction("click", element_id=12)),
        ("I will press it.\nclick(40, 95.5)", GuiAction("click", x=40.0, y=95.5)),
        ('type("hello, world")', GuiAction("type", text="hello, world")),
        ("type('it''s')", GuiAction("type", text="its")),
        ('press("Enter")', GuiAction("press", text="Enter")),
        ('press("Control+a")', GuiAction("press", text="Control+a")),
        ("scroll(0, -120)", GuiAction("scroll", dx=0.0, dy=-120.0)),
        ('select(7, "Red")', GuiAction("select", element_id=7, text="Red")),
        ("wait", GuiAction("wait")),
        ("All good, done.", GuiAction("done")),
    ],
)
def test_text_form(text, expected):
    assert act(text) == expected


def test_the_last_call_counts_and_round_trips():
    assert act("click(1)\nno, rather\nclick(2)") == GuiAction("click", element_id=2)
    for a in [
        GuiAction("click", x=3.0, y=4.5),
        GuiAction("type", text='say "hi"\n'),
        GuiAction("select", 1, None, 3, "x"),
    ]:
        assert act(a.to_text()).to_dict() == a.to_dict()


def test_tool_calls_native_and_text():
    assert parse_action(call("click", element_id=3)) == GuiAction("click", element_id=3, tool_call_id="c1")
    assert parse_action(call("click", x=1, y=2)).to_dict() == {"action": "click", "x": 1.0, "y": 2.0}
    text = '<tool_call>{"name": "type", "arguments": {"text": "abc"}}</tool_call>'
    assert act(text).text == "abc"


@pytest.mark.parametrize(
    ("action", "needle"),
    [
        (Message("assistant", "I am not sure what to do"), "no action found"),
        (Message("assistant", "click(1, 2, 3)"), "click takes"),
        (Message("assistant", "click(__import__('os'))"), "cannot read the arguments"),
        (Message("assistant", "click(-1)"), "out of range"),
        (Message("assistant", 'press("NotAKey!!")'), "unknown key"),
        (Message("assistant", "scroll(0, 99999999)"), "out of range"),
        (Message("assistant", 'type("' + "a" * 3000 + '")'), "longer than"),
        (call("click", element_id=1, x=2, y=3), "either element_id or"),
        (call("click", x=2), "needs element_id or both"),
        (call("teleport"), "unknown tool"),
        (
            Message("assistant", "", tool_calls=(ToolCall("a", "wait", "{}"), ToolCall("b", "done", "{}"))),
            "exactly one",
        ),
    ],
)
def test_bad_actions_explain_themselves(action, needle):
    with pytest.raises(ActionError, match=needle):
        parse_action(action)
