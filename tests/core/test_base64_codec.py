"""The base64 decoder: the fast one, when installed, agrees with the standard library."""

import base64
import binascii

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orq_embeddings._wire.base64_codec import decode_base64


@given(st.binary(max_size=512))
def test_decodes_what_the_standard_library_encodes(raw):
    assert decode_base64(base64.b64encode(raw).decode()) == raw


@pytest.mark.parametrize("text", ["QU JD", "QUJD\n", "Q", "@@@@", "QUI=QUJD", "QUJD-_"])
def test_refuses_what_is_not_strict_base64(text):
    with pytest.raises(binascii.Error):
        decode_base64(text)
    with pytest.raises(binascii.Error):
        base64.b64decode(text, validate=True)
