import pytest

from engine.llm.parsing import ParseError, extract_json


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}',
        '```json\n{"a": 1}\n```',
        'Sure, here it is:\n{"a": 1}\nHope that helps!',
        '<think>I should answer {maybe}</think>{"a": 1}',
        '{"a": 1,}',
        "{'a': 1}",
        '```\n{"a": 1, }\n```',
    ],
)
def test_tolerant_forms_parse(text: str) -> None:
    assert extract_json(text) == {"a": 1}


@pytest.mark.parametrize("text", ["", "no json here at all", "[1, 2, 3]", "(a: 1)"])
def test_unrecoverable_text_is_an_error(text: str) -> None:
    with pytest.raises(ParseError):
        extract_json(text)
