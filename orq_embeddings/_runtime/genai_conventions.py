"""The names the client's telemetry uses, each spelled once: OpenTelemetry's and this project's.

The GenAI names follow the OpenTelemetry semantic conventions of release **v1.41** (the text of
v1.41.1: ``docs/gen-ai/gen-ai-spans.md``, section "Embeddings", and ``gen-ai-metrics.md``), the
last release that carries them; from v1.42 they live in the semantic-conventions-genai repository,
which has no release yet and plans other metric names for embeddings. They are at Development
status there, so a later version may rename them: they are kept here, and only here, so a switch
(or an opt-in to the new names) is an edit of this module. They are plain strings rather than
``opentelemetry-semantic-conventions`` constants: the ``[otel]`` extra brings the API alone, and
those constants warn that they moved.

``gen_ai.provider.name`` is ``orq``: the client talks to orq, whatever provider orq routes a
request to (which is not in the response; ``gen_ai.request.model`` names it as
``provider/model`` and ``gen_ai.response.model`` the model that served). None of the conventions'
well-known values names a gateway, and ``openai`` would promise OpenAI's own attributes and say
OpenAI served a Cohere model. The conventions allow a custom value when no well-known one applies.

Nothing here imports OpenTelemetry: the local gateway and the benchmarks read these names too.
"""

from __future__ import annotations

#: The semantic conventions release followed, and the schema URL spans and metrics carry.
SEMCONV_VERSION = "1.41.1"
SCHEMA_URL = "https://opentelemetry.io/schemas/1.41.0"
#: The instrumentation scope of the client's spans and metrics.
SCOPE = "orq_embeddings"

# -- GenAI and general attributes (semantic conventions v1.41) ----------------------------------
# (ruff's S105 reads any name with "token" in it as a password: these are attribute names.)

GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
EMBEDDINGS_OPERATION = "embeddings"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
ORQ_PROVIDER = "orq"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT = "gen_ai.embeddings.dimension.count"
GEN_AI_REQUEST_ENCODING_FORMATS = "gen_ai.request.encoding_formats"
GEN_AI_TOKEN_TYPE = "gen_ai.token.type"  # noqa: S105
INPUT_TOKEN_TYPE = "input"  # noqa: S105
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"
#: HTTP's: the status of a response, and how often a request was sent again (set only if it was).
HTTP_RESPONSE_STATUS_CODE = "http.response.status_code"
HTTP_REQUEST_RESEND_COUNT = "http.request.resend_count"

# -- GenAI client metrics (semantic conventions v1.41) -------------------------------------------

OPERATION_DURATION = "gen_ai.client.operation.duration"
OPERATION_DURATION_DESCRIPTION = "GenAI operation duration."
TOKEN_USAGE = "gen_ai.client.token.usage"  # noqa: S105
TOKEN_USAGE_DESCRIPTION = "Number of input and output tokens used."  # noqa: S105
#: The bucket boundaries the conventions advise for each histogram.
DURATION_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

# -- orq's own ---------------------------------------------------------------------------------

#: orq's trace of the request, from the ``x-orq-trace-id`` and ``x-orq-trace-span-id`` headers.
ORQ_TRACE_ID = "orq.trace_id"
ORQ_SPAN_ID = "orq.span_id"
#: The W3C tracestate member orq's own SDK sends so that orq continues the caller's trace.
ORQ_TRACESTATE_KEY = "orq"
ORQ_TRACESTATE_VALUE = "1"

# -- this project's: one call (the INTERNAL span) ------------------------------------------------

#: The model the call asked for (on the call span, which carries no ``gen_ai.*`` attribute so
#: that backends adding up GenAI spans count each request once).
CALL_MODEL = "orq_embeddings.model"
CALL_INPUTS = "orq_embeddings.inputs"
CALL_BATCHES = "orq_embeddings.batches"
CALL_REQUESTS = "orq_embeddings.requests"
CALL_ATTEMPTS = "orq_embeddings.attempts"
CALL_INPUT_TOKENS = "orq_embeddings.usage.input_tokens"
#: The vector space that served every batch of the call (``EmbeddingSpace``'s text), or
#: :data:`MIXED_SPACES` when batches came from more than one.
CALL_SPACE = "orq_embeddings.embedding_space"
MIXED_SPACES = "mixed"

# -- this project's: one request (the CLIENT span) -----------------------------------------------

BATCH_INDEX = "orq_embeddings.batch.index"
BATCH_FIRST_INPUT = "orq_embeddings.batch.first_input"
BATCH_INPUTS = "orq_embeddings.batch.inputs"
#: Only with ``otel_record_input_sizes``: bytes of input, as the batch budget counts them
#: (UTF-8 bytes of text, 4 per token id), in all and of the largest input.
INPUT_BYTES = "orq_embeddings.input_bytes"
LARGEST_INPUT_BYTES = "orq_embeddings.largest_input_bytes"

#: The event on a request's span when an attempt failed and is retried.
RETRY_EVENT = "orq_embeddings.retry"
RETRY_ATTEMPT = "orq_embeddings.retry.attempt"
RETRY_WAIT_SECONDS = "orq_embeddings.retry.wait_seconds"
