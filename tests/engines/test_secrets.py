"""The key reaches every worker and task, and appears in none of Ray's or Spark's records.

Both ways a key travels are tried against a gateway that accepts only that key, so a job that
finishes proves the key arrived: read from the workers' environment (ENV_KEY, set when the
session's Ray and Spark started), and given to the job as ``api_key`` (GIVEN_KEY). Then every
place either engine keeps what it ran is searched for both: Ray's session directory (its logs and
every other file it wrote), its plans and stats; Spark's plans, conf, event log, web UI and
scratch space; what each ships to its workers, pickled; and every log record of this process.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import cloudpickle
import pyarrow as pa

from orq_embeddings.gateway import GatewayConfig
from tests.support.engines import ENV_KEY, GIVEN_KEY, MODEL
from tests.support.leaks import every_log_record, written_by

KEYS = (ENV_KEY, GIVEN_KEY)
TEXTS = [f"a passage on secrets, number {n}" for n in range(24)]


def files_holding_a_key(folder: Path) -> list[str]:
    """Every file under ``folder`` whose bytes hold either key."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                content = path.read_bytes()
            except OSError:
                continue
            found += [f"{path}: {key}" for key in KEYS if key.encode() in content]
    return found


def holding_a_key(*texts: str | bytes) -> list[str | bytes]:
    return [
        text
        for text in texts
        for key in KEYS
        if (key.encode() if isinstance(text, bytes) else key) in text
    ]


def test_ray_workers_get_the_key_and_ray_records_it_nowhere(
    ray_session, orq_gateway_pool, tmp_path, capfd
):
    import ray

    from orq_embeddings import ray as orq_ray

    env_gateway = orq_gateway_pool.get(GatewayConfig(api_key=ENV_KEY))
    given_gateway = orq_gateway_pool.get(GatewayConfig(api_key=GIVEN_KEY))
    dataset = ray.data.from_arrow(pa.table({"id": list(range(24)), "text": TEXTS}))
    with every_log_record() as records:
        result = orq_ray.embed_dataset(
            dataset, MODEL, tmp_path / "given", api_key=GIVEN_KEY, base_url=given_gateway.base_url
        )
        key_ref = ray.put(GIVEN_KEY)
        kwargs = {"model": MODEL, "base_url": env_gateway.base_url}
        from_env = dataset.map_batches(
            orq_ray.EmbedBatch,
            fn_constructor_kwargs=kwargs,
            compute=ray.data.ActorPoolStrategy(size=2),
            num_cpus=0.25,
            batch_format="pyarrow",
        )
        rows = from_env.take_all()
        given = dataset.map_batches(
            orq_ray.EmbedBatch,
            fn_constructor_kwargs={
                **kwargs,
                "api_key": key_ref,
                "base_url": given_gateway.base_url,
            },
            compute=ray.data.ActorPoolStrategy(size=1),
            num_cpus=0.25,
            batch_format="pyarrow",
        )
        given_rows = given.take_all()
        from_env.explain()
        plans = [repr(from_env), str(given), from_env.stats(), given.stats()]
        shipped = cloudpickle.dumps({**kwargs, "api_key": key_ref})

    assert result.rows == len(rows) == len(given_rows) == 24  # the key reached every worker
    assert env_gateway.counters().responses_by_status == {200: env_gateway.counters().requests}
    assert files_holding_a_key(ray_session.session_dir) == []
    assert holding_a_key(*plans, shipped, *capfd.readouterr(), *written_by(records)) == []


def spark_ui_pages(spark) -> list[str]:
    """The web UI's pages and REST answers that show the environment, the jobs and the plans."""
    ui = spark.sparkContext.uiWebUrl
    application = spark.sparkContext.applicationId
    pages = []
    for path in (
        "/environment/",
        "/jobs/",
        "/stages/",
        "/SQL/",
        f"/api/v1/applications/{application}/environment",
        f"/api/v1/applications/{application}/jobs",
        f"/api/v1/applications/{application}/stages",
        f"/api/v1/applications/{application}/sql?details=true&planDescription=true",
    ):
        with urllib.request.urlopen(ui + path, timeout=30) as answer:
            pages.append(answer.read().decode(errors="replace"))
    return pages


def test_spark_tasks_get_the_key_and_spark_records_it_nowhere(
    spark_session, orq_gateway_pool, tmp_path, capfd
):
    from orq_embeddings import spark as orq_spark

    spark = spark_session.spark
    env_gateway = orq_gateway_pool.get(GatewayConfig(api_key=ENV_KEY))
    given_gateway = orq_gateway_pool.get(GatewayConfig(api_key=GIVEN_KEY))
    frame = spark.createDataFrame(list(enumerate(TEXTS)), ["id", "text"])
    with every_log_record() as records:
        result = orq_spark.embed_dataframe(
            frame, MODEL, tmp_path / "given", api_key=GIVEN_KEY, base_url=given_gateway.base_url
        )
        from_env = orq_spark.with_embeddings(frame, MODEL, base_url=env_gateway.base_url)
        rows = from_env.collect()
        from_env.explain(mode="extended")
        embed = orq_spark.EmbedPartitions(MODEL, base_url=env_gateway.base_url)
        shipped = cloudpickle.dumps(embed)

    assert result.rows == len(rows) == 24  # the key reached every task
    assert env_gateway.counters().responses_by_status == {200: env_gateway.counters().requests}
    conf = json.dumps(spark.sparkContext.getConf().getAll())
    assert files_holding_a_key(spark_session.event_log) == []
    assert files_holding_a_key(spark_session.local_dir) == []  # the broadcast key is destroyed
    assert holding_a_key(conf, *spark_ui_pages(spark), shipped) == []
    assert holding_a_key(*capfd.readouterr(), *written_by(records)) == []
