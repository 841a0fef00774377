"""Secret shapes the redactor must catch, and ordinary text it must leave alone."""

from __future__ import annotations

import pytest
from glm5_doctor.engine.redact import MASK, Redactor, is_secret_name


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("token hf_abcdefghijklmnopqrstuv in a message", "hf_abcdefghijklmnopqrstuv"),
        ("https://user:pa55word@pypi.internal/simple", "pa55word"),
        ("git+https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/x/y", "ghp_abcdefghijklmnopqrstuvwxyz0123"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("key sk-proj-abcdefghijklmnop1234", "sk-proj-abcdefghijklmnop1234"),
        ("AKIAABCDEFGHIJKLMNOP is an AWS key id", "AKIAABCDEFGHIJKLMNOP"),
    ],
)
def test_token_shapes_are_masked(text: str, secret: str) -> None:
    assert secret not in Redactor({}).text(text)


def test_values_of_secret_named_variables_are_masked_anywhere() -> None:
    redactor = Redactor({"WANDB_API_KEY": "0123456789", "HOME": "/root", "SHORT_TOKEN": "abc"})
    assert redactor.text("path /data/0123456789/x") == f"path /data/{MASK}/x"
    assert redactor.text("/root/abc") == "/root/abc", "non-secret and too-short values stay"


def test_secret_keys_in_evidence_are_masked_and_ordinary_data_kept() -> None:
    data = {"HF_TOKEN": "whatever", "version": "0.16.0", "nested": [{"password": "x1"}], "kv_bytes_per_token": 100152}
    assert Redactor({}).data(data) == {
        "HF_TOKEN": MASK,
        "version": "0.16.0",
        "nested": [{"password": MASK}],
        "kv_bytes_per_token": 100152,
    }


def test_ordinary_messages_are_untouched() -> None:
    text = (
        "vLLM 0.16.0 pins transformers<5,>=4.56.0 at /opt/venv/lib/python3.12/site-packages (git https://github.com/x)"
    )
    assert Redactor({}).text(text) == text


@pytest.mark.parametrize(
    "name",
    [
        "HF_TOKEN",
        "MY_API_KEY",
        "accessToken",
        "AWS_SECRET_ACCESS_KEY",
        "password",
        "HUGGING_FACE_HUB_TOKEN",
        "db-passwd",
        "SESSION",
        "apikey",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["kv_tokens", "max_model_len", "tokenizer", "keys_found", "PATH", "kv_cache_dtype"])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)
