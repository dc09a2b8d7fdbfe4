"""Decoding responses: vectors by index, every malformed shape refused, every error body read."""

import base64
import json

import numpy as np
import pytest

from orq_embeddings import (
    AuthenticationError,
    BadRequestError,
    InvalidResponseError,
    NotFoundError,
    OrqError,
    PermissionDeniedError,
    RateLimitError,
    RedirectError,
    ServerError,
)
from orq_embeddings._wire.batching import Batch
from orq_embeddings._wire.decoding import decode_embeddings
from orq_embeddings._wire.raw_response import RawResponse
from orq_embeddings._wire.reader import ResponseReader, interpret
from orq_embeddings.errors import NotSupportedByServerError, QuotaExceededError

BATCH = Batch(number=1, total=4, start=10, stop=13)  # three inputs, positions 10-12
URL = "https://api.orq.ai/v2/router/embeddings"


def b64(values):
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode()


def response(payload, status=200, **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return RawResponse(status, {"x-orq-trace-id": "trace-1", **headers}, body)


def items(*embeddings, order=None):
    indices = order if order is not None else range(len(embeddings))
    return [
        {"object": "embedding", "index": index, "embedding": embeddings[index]} for index in indices
    ]


def ok(data, **extra):
    return {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": data,
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
        **extra,
    }


def test_places_vectors_by_index_not_by_position():
    payload = ok(items([1.0, 0.0], [2.0, 0.0], [3.0, 0.0], order=[2, 0, 1]))
    decoded = decode_embeddings(response(payload), BATCH)
    assert decoded.vectors.tolist() == [[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]
    assert decoded.vectors.dtype == np.float32
    assert decoded.model == "text-embedding-3-small"
    assert decoded.usage is not None and decoded.usage.total_tokens == 3
    assert decoded.trace_id == "trace-1"


def test_decodes_base64_as_little_endian_float32():
    payload = ok(items(b64([0.5, -1.25]), b64([1, 2]), b64([3, 4])))
    decoded = decode_embeddings(response(payload), BATCH)
    assert decoded.vectors[0].tolist() == [0.5, -1.25]


def test_accepts_a_mix_of_base64_and_float_lists():
    payload = ok(items(b64([0.5, 1]), [2, 3], [4.5, 5]))
    assert decode_embeddings(response(payload), BATCH).vectors[1].tolist() == [2.0, 3.0]


# Three float32 values are 16 base64 characters without padding: the shape of every usual
# response (1536 values, 3072, ...), which is decoded for the whole batch at once.
UNPADDED = [[0.5, -1.25, 2.0], [1.0, 2.0, 3.0], [-4.0, 5.5, 6.0]]


def test_decodes_unpadded_base64_vectors_into_a_writable_float32_matrix():
    decoded = decode_embeddings(response(ok(items(*map(b64, UNPADDED)))), BATCH)
    assert decoded.vectors.tolist() == UNPADDED
    assert decoded.vectors.dtype == np.float32
    assert decoded.vectors.flags.writeable


def test_places_unpadded_base64_vectors_by_index_not_by_position():
    payload = ok(items(*map(b64, UNPADDED), order=[2, 0, 1]))
    assert decode_embeddings(response(payload), BATCH).vectors.tolist() == UNPADDED


def test_refuses_unpadded_base64_vectors_of_different_lengths():
    data = items(*map(b64, UNPADDED))
    data[1]["embedding"] = b64([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    invalid(ok(data), "different lengths.*input 11 has 6")


def test_refuses_an_unpadded_base64_vector_with_a_character_outside_base64():
    data = items(*map(b64, UNPADDED))
    data[2]["embedding"] = "*" + data[2]["embedding"][1:]
    invalid(ok(data), "embedding for input 12 is a string that is not valid base64")


def test_refuses_nan_in_unpadded_base64_naming_the_input():
    data = items(*map(b64, UNPADDED))
    data[1]["embedding"] = b64([1.0, float("inf"), 3.0])
    invalid(ok(data), r"NaN or infinite .* inputs \[11\]")


def test_missing_or_malformed_usage_is_not_an_error():
    payload = ok(items([1.0], [2.0], [3.0]))
    payload["usage"] = {"prompt_tokens": "many"}
    assert decode_embeddings(response(payload), BATCH).usage is None


def invalid(payload, match):
    with pytest.raises(InvalidResponseError, match=match) as caught:
        decode_embeddings(response(payload), BATCH)
    message = str(caught.value)
    assert "batch 2 of 4 (inputs 10-12)" in message
    assert "trace-1" in message
    return caught.value


def test_refuses_wrong_count():
    invalid(ok(items([1.0], [2.0])), "expected 3 embeddings, got 2")


def test_refuses_duplicate_index():
    data = items([1.0], [2.0], [3.0])
    data[2]["index"] = 0
    invalid(ok(data), "index 0 appears more than once")


@pytest.mark.parametrize("index", [None, -1, 3, "1", 1.0, True])
def test_refuses_missing_or_out_of_range_index(index):
    data = items([1.0], [2.0], [3.0])
    data[1]["index"] = index
    if index is None:
        del data[1]["index"]
    invalid(ok(data), "expected an int within 0-2")


def test_refuses_vectors_of_different_lengths():
    invalid(ok(items([1.0, 2.0], [1.0], [1.0, 2.0])), "different lengths.*input 11 has 1")


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_refuses_non_finite_values(bad):
    raw = json.dumps(ok(items([1.0], [2.0], [3.0]))).replace("[2.0]", f"[{bad}]")
    with pytest.raises(InvalidResponseError, match=r"NaN or infinite .* inputs \[11\]"):
        decode_embeddings(response(raw.encode()), BATCH)


def test_refuses_nan_inside_base64():
    invalid(ok(items(b64([1.0]), b64([float("nan")]), b64([1.0]))), r"inputs \[11\]")


def test_refuses_values_that_overflow_float32():
    invalid(ok(items([1.0], [1e39], [1.0])), r"NaN or infinite .* inputs \[11\]")


def test_refuses_an_integer_too_large_for_any_float():
    raw = json.dumps(ok(items([1.0], [2.0], [3.0]))).replace("[2.0]", f"[{'9' * 400}]")
    invalid(raw.encode(), "embedding for input 11 has an integer too large for any float")


def test_refuses_null_data():
    invalid(ok(None), "'data' is null or missing")


def test_refuses_data_that_is_not_a_list():
    invalid(ok({"0": [1.0]}), "'data' is a dict")


def test_refuses_a_body_that_is_not_an_object():
    invalid([1, 2, 3], "expected a JSON object, got list")


@pytest.mark.parametrize(
    ("embedding", "match"),
    [
        ("not base64!", "not valid base64"),
        (base64.b64encode(b"abc").decode(), "not a whole number of float32"),
        ([], "not a non-empty list of numbers"),
        (["1.0"], "not a non-empty list of numbers"),
        ([[1.0]], "not a non-empty list of numbers"),
        ([True], "not a non-empty list of numbers"),
        ([1.0, True], "not a non-empty list of numbers"),
        ([[1.0, 2.0], [3.0]], "not a non-empty list of numbers"),
        ([1.0, [2.0]], "not a non-empty list of numbers"),
        ([None], "not a non-empty list of numbers"),
        (None, "is NoneType"),
        ({"values": [1.0]}, "is dict"),
    ],
)
def test_refuses_malformed_vectors_naming_the_input(embedding, match):
    invalid(ok(items([1.0], embedding, [1.0])), f"embedding for input 11 .*{match}")


def test_refuses_an_item_that_is_not_an_object():
    invalid(ok([[1.0], [2.0], [3.0]]), "item 0 of 'data' is a list")


def test_refuses_truncated_json():
    body = json.dumps(ok(items([1.0], [2.0], [3.0]))).encode()[:-7]
    invalid(body, "not valid JSON")


def test_refuses_an_html_page_naming_its_title():
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>"
    invalid(page, "HTML page titled '502 Bad Gateway'")


def test_refuses_an_empty_body():
    invalid(b"", "the body is empty")


def nested_too_deep(depth=100_000):
    return b'{"data": ' + b"[" * depth + b"]" * depth + b"}"


def test_refuses_json_nested_too_deeply_to_read():
    invalid(nested_too_deep(), "the body is JSON nested too deeply to read")


# -- error responses -------------------------------------------------------------------------


def error_for(payload, status, **headers):
    with pytest.raises(OrqError) as caught:
        ResponseReader(URL, "api.orq.ai").read(response(payload, status, **headers), BATCH)
    return caught.value


def test_reads_the_current_orq_error_shape():
    error = error_for(
        {
            "error": {
                "code": "invalid_api_key",
                "message": "Invalid API key",
                "doc_url": "https://docs.orq.ai",
            }
        },
        401,
    )
    assert isinstance(error, AuthenticationError)
    assert (error.status_code, error.code, error.message) == (
        401,
        "invalid_api_key",
        "Invalid API key",
    )
    assert error.trace_id == "trace-1"
    assert (
        str(error)
        == "api.orq.ai answered 401 invalid_api_key: Invalid API key (x-orq-trace-id trace-1)"
    )


def test_the_message_names_the_host_that_answered():
    with pytest.raises(OrqError, match=r"^127\.0\.0\.1:8123 answered 401"):
        ResponseReader(URL, "127.0.0.1:8123").read(
            response({"error": {"message": "no"}}, 401), BATCH
        )


def test_a_malformed_success_is_noted_with_its_batch_attempts_and_url():
    with pytest.raises(InvalidResponseError) as caught:
        ResponseReader(URL, "api.orq.ai").read(response({"data": None}, 200), BATCH, attempts=2)

    assert caught.value.__notes__ == [f"{BATCH.describe()}, after 2 attempt(s) to {URL}"]


def test_interpret_the_old_name_reads_as_the_client_does():
    with pytest.raises(OrqError, match=r"^127\.0\.0\.1:8123 answered 401"):
        interpret(response({"error": {"message": "no"}}, 401), BATCH, host="127.0.0.1:8123")


def test_the_span_id_is_kept_and_named():
    error = error_for({"error": {"message": "no"}}, 500, **{"x-orq-trace-span-id": "span-9"})
    assert error.span_id == "span-9"
    assert "x-orq-trace-id trace-1, x-orq-trace-span-id span-9" in str(error)


def test_the_sdk_shape_keeps_param_and_every_failure():
    failures = [{"model": "a/x", "status": 503}, {"model": "b/y", "status": 502}]
    error = error_for(
        {
            "error": {
                "code": "provider_error",
                "message": "every model failed",
                "param": None,
                "type": "api_error",
                "failures": failures,
            }
        },
        502,
    )
    assert error.failures == tuple(failures)
    assert error.param is None
    assert "failed attempts: a/x 503, b/y 502" in str(error)


def test_untyped_failures_are_kept_as_sent():
    error = error_for({"error": {"message": "m", "failures": ["odd", 3]}}, 503)
    assert error.failures == ("odd", 3)
    assert "'odd', 3" in str(error)


def test_reads_the_openai_error_shape_with_type_and_param():
    error = error_for(
        {
            "error": {
                "message": "bad dimensions",
                "type": "invalid_request_error",
                "param": "dimensions",
                "code": None,
            }
        },
        400,
    )
    assert isinstance(error, BadRequestError)
    assert error.code == "invalid_request_error"
    assert error.message == "bad dimensions (param: dimensions)"


def test_reads_the_legacy_error_shape():
    error = error_for({"code": 404, "error": "Model not found", "source": "provider"}, 404)
    assert isinstance(error, NotFoundError)
    assert error.message == "Model not found (source: provider)"


def test_reads_quota_exceeded_as_permission_denied():
    error = error_for({"error": {"code": "quota_exceeded", "message": "Out of credit"}}, 402)
    assert isinstance(error, PermissionDeniedError)


@pytest.mark.parametrize(
    ("status", "code"),
    [(402, "quota_exceeded"), (429, "insufficient_quota"), (429, "quota_exceeded")],
)
def test_a_spent_quota_is_a_quota_error_that_says_waiting_will_not_help(status, code):
    error = error_for({"error": {"code": code, "message": "Out of credit"}}, status)
    assert isinstance(error, QuotaExceededError)
    assert isinstance(error, RateLimitError) and isinstance(error, PermissionDeniedError)
    assert "waiting will not help" in str(error)


def test_a_plain_429_is_not_a_quota_error():
    error = error_for({"error": {"code": "rate_limit_exceeded", "message": "slow"}}, 429)
    assert not isinstance(error, QuotaExceededError)


@pytest.mark.parametrize("status", [501, 505])
def test_not_implemented_is_a_server_error_that_says_waiting_will_not_help(status):
    error = error_for({"error": {"message": "nope"}}, status)
    assert isinstance(error, NotSupportedByServerError)
    assert isinstance(error, ServerError)
    assert "waiting will not help" in str(error)


def test_keeps_rate_limit_headers_for_the_retry_policy():
    error = error_for(
        {"error": {"code": "rate_limit_exceeded", "message": "slow"}},
        429,
        **{"retry-after": "3", "x-ratelimit-remaining": "0"},
    )
    assert isinstance(error, RateLimitError)
    assert error.headers["retry-after"] == "3"


def test_an_html_error_page_becomes_a_server_error_that_says_so():
    error = error_for(
        b"<html><title>Service Unavailable</title></html>", 503, **{"content-type": "text/html"}
    )
    assert isinstance(error, ServerError)
    assert "HTML page titled 'Service Unavailable'" in error.message


def test_an_empty_error_body_is_described():
    error = error_for(b"", 500)
    assert isinstance(error, ServerError)
    assert error.message == "the body is empty"


def test_an_error_body_nested_too_deeply_to_read_is_described():
    error = error_for(nested_too_deep(), 502)
    assert isinstance(error, ServerError)
    assert error.message.startswith("the body is JSON nested too deeply to read")


def test_a_json_error_without_a_message_uses_the_status_phrase():
    assert error_for({"detail": 1}, 422).message == "Unprocessable Entity"


def test_a_redirect_is_refused_naming_the_location():
    error = error_for(b"", 307, location="https://elsewhere.example/v2/router/embeddings")
    assert isinstance(error, RedirectError)
    assert "elsewhere.example" in str(error)
    assert "never followed" in str(error)
