"""Connection settings: where keys may go, what the environment supplies, what a repr shows."""

import pickle

import pytest

from orq_embeddings import ClientConfig, ConfigurationError, OrqEmbeddingsClient, OrqError
from tests.support.configuration_mistakes import LOCAL_BASE_URL, MISTAKES, settings_of
from tests.support.leaks import FAKE_KEY

KEY = FAKE_KEY


def test_defaults_to_the_router_on_api_orq_ai(monkeypatch):
    monkeypatch.delenv("ORQ_BASE_URL", raising=False)
    client = OrqEmbeddingsClient("openai/text-embedding-3-small", api_key=KEY)
    assert client.config.embeddings_url == "https://api.orq.ai/v2/router/embeddings"
    assert client.config.wire_dialect.value == "router"


def test_reads_key_and_base_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("ORQ_API_KEY", KEY)
    monkeypatch.setenv("ORQ_BASE_URL", "https://my.orq.ai/v2/gateway/")
    client = OrqEmbeddingsClient("m")
    assert client.config.api_key is not None
    assert client.config.api_key.get_secret_value() == KEY
    assert client.config.base_url == "https://my.orq.ai/v2/gateway"
    assert client.config.wire_dialect.value == "gateway"


def test_explicit_arguments_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("ORQ_API_KEY", "from-env")
    monkeypatch.setenv("ORQ_BASE_URL", "https://env.example/v2/router")
    client = OrqEmbeddingsClient("m", api_key=KEY, base_url="https://arg.example/v2/router")
    assert client.config.api_key.get_secret_value() == KEY
    assert client.config.base_url == "https://arg.example/v2/router"


def test_a_remote_base_url_without_a_key_is_refused_with_a_way_out(monkeypatch):
    monkeypatch.delenv("ORQ_API_KEY", raising=False)
    with pytest.raises(ValueError, match="no orq.ai API key.*ORQ_API_KEY.*local gateway"):
        OrqEmbeddingsClient("m", base_url="https://api.orq.ai/v2/router")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.0.0.53"])
def test_a_loopback_gateway_needs_no_key(monkeypatch, host):
    monkeypatch.delenv("ORQ_API_KEY", raising=False)
    client = OrqEmbeddingsClient("m", base_url=f"http://{host}:8080/v2/router")
    assert client.config.api_key is None


def test_the_key_is_not_sent_over_plain_http_to_another_host():
    with pytest.raises(ValueError, match="refusing to send the API key over plain http"):
        OrqEmbeddingsClient("m", api_key=KEY, base_url="http://gateway.internal/v2/router")


def test_plain_http_to_another_host_when_explicitly_allowed():
    client = OrqEmbeddingsClient(
        "m", api_key=KEY, base_url="http://gateway.internal/v2/router", allow_insecure_http=True
    )
    assert client.config.base_url == "http://gateway.internal/v2/router"


@pytest.mark.parametrize(
    "url",
    ["api.orq.ai/v2/router", "ftp://api.orq.ai", "https://", "https://api.orq.ai/v2/router?key=1"],
)
def test_rejects_base_urls_that_are_not_plain_http_urls(url):
    with pytest.raises(ValueError, match="base_url"):
        OrqEmbeddingsClient("m", api_key=KEY, base_url=url)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeout", 0),
        ("max_retries", -1),
        ("batch_size", 0),
        ("max_batch_bytes", 0),
        ("max_concurrency", 0),
    ],
)
def test_rejects_out_of_range_settings_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        OrqEmbeddingsClient("m", api_key=KEY, **{field: value})


@pytest.mark.parametrize(
    "key", [KEY + "\n", " " + KEY, KEY + "\r\nX-Injected: 1", KEY + "\u00e9"], ids=repr
)
def test_a_key_no_header_can_carry_is_refused_without_showing_it(key):
    with pytest.raises(ValueError, match="api_key has a character an HTTP header cannot") as caught:
        OrqEmbeddingsClient("m", api_key=key)
    assert KEY not in str(caught.value)


def test_a_key_of_the_wrong_type_is_refused_without_showing_it():
    key = (KEY,)  # a trailing comma after the key makes a tuple

    with pytest.raises(ValueError, match="api_key") as caught:
        OrqEmbeddingsClient("m", api_key=key)  # type: ignore[arg-type]
    assert KEY not in str(caught.value)


def test_the_key_appears_in_no_repr_str_or_dump():
    client = OrqEmbeddingsClient("m", api_key=KEY, default_headers={"X-Team": "search"})
    shown = [
        repr(client),
        str(client),
        repr(client.config),
        str(client.config),
        str(client.config.model_dump()),
        client.config.model_dump_json(),
    ]
    for text in shown:
        assert KEY not in text


def test_a_pickled_client_works_and_holds_no_connection(server):
    client = OrqEmbeddingsClient("m", base_url=server.base_url, api_key=KEY)
    client.embed(["warm the pool"])
    clone = pickle.loads(pickle.dumps(client))
    assert clone.embed(["a"]).vectors == client.embed(["a"]).vectors
    assert clone._resources is not client._resources
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}"


def test_config_is_immutable():
    config = ClientConfig(api_key=KEY)
    with pytest.raises(ValueError, match="frozen"):
        config.timeout = 5  # type: ignore[misc]


def test_credentials_in_the_base_url_are_refused():
    with pytest.raises(ValueError, match="must not carry credentials"):
        OrqEmbeddingsClient("m", api_key=KEY, base_url="https://user:pw@api.orq.ai/v2/router")


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_configuration_mistake_is_one_orq_error_paragraph(monkeypatch, mistake):
    monkeypatch.delenv("ORQ_API_KEY", raising=False)
    with pytest.raises(ConfigurationError) as caught:
        OrqEmbeddingsClient("openai/text-embedding-3-small", **settings_of(mistake))
    message = str(caught.value)
    assert isinstance(caught.value, OrqError) and isinstance(caught.value, ValueError)
    for words in mistake.says:
        assert words in message
    # None of pydantic's own report: no link, no type tag, no echoed input, one line.
    assert "errors.pydantic.dev" not in message
    assert "type=" not in message and "input_value" not in message
    assert "\n" not in message
    assert caught.value.__suppress_context__


def test_the_problems_of_a_configuration_error_name_each_setting_by_its_path():
    with pytest.raises(ConfigurationError) as caught:
        OrqEmbeddingsClient("m", base_url=LOCAL_BASE_URL, batch_size=0)
    assert caught.value.problems == ((("batch_size",), "must be at least 1, got 0"),)
    assert caught.value.describe(lambda path: "--" + str(path[0]).replace("_", "-")) == (
        "--batch-size: must be at least 1, got 0"
    )


def test_with_options_refuses_an_unknown_setting_listing_the_valid_ones():
    client = OrqEmbeddingsClient("m", base_url=LOCAL_BASE_URL)
    with pytest.raises(ConfigurationError, match=r"no setting 'modle'.*did you mean 'model'"):
        client.with_options(modle="other/model")
    with pytest.raises(ConfigurationError, match=r"orq.cache.ttl: must be from 1 to 259200, got 0"):
        client.with_options(orq={"cache": {"ttl": 0}})


def test_a_configuration_error_survives_pickling_whole():
    with pytest.raises(ConfigurationError) as caught:
        OrqEmbeddingsClient("m", base_url=LOCAL_BASE_URL, orq={"retry": {"count": 9}})
    clone = pickle.loads(pickle.dumps(caught.value))
    assert (str(clone), clone.problems) == (str(caught.value), caught.value.problems)
