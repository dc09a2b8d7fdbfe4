"""A Ray or a Spark on this machine alone, listening on 127.0.0.1: for the command line and tests.

On a cluster the engines run wherever the caller's Ray or Spark runs; these start one on this
machine, with nothing reachable from the network:

- Ray picks the machine's network address for every process it starts unless
  ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (its single-machine mode, the default on macOS and
  Windows) is set before ``ray`` is imported: then all of them listen on 127.0.0.1. Its usage
  report is turned off too. Neither is set when a cluster's address is given (``RAY_ADDRESS``):
  a driver on 127.0.0.1 could not be reached by the cluster's other machines.
- Spark's driver binds to 127.0.0.1, with no web UI, and its Python workers run this
  interpreter.

tests/engines/test_local_sessions.py fails loudly if a Ray or Spark release stops honouring this.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Set before ``ray`` is imported, these keep a local Ray on 127.0.0.1 (see the module).
RAY_ON_THIS_MACHINE = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
}
#: The Ray address variable: when set, ``ray.init()`` joins that cluster instead.
RAY_ADDRESS_ENV = "RAY_ADDRESS"


def keep_ray_on_this_machine() -> bool:
    """Set :data:`RAY_ON_THIS_MACHINE` (unless set already) if Ray will start here; whether it will.

    Must run before ``ray`` is first imported; it does nothing when ``RAY_ADDRESS`` names a cluster.
    """
    if os.environ.get(RAY_ADDRESS_ENV):
        return False
    if "ray" in sys.modules:
        raise RuntimeError("keep_ray_on_this_machine() must run before ray is imported")
    for name, value in RAY_ON_THIS_MACHINE.items():
        os.environ.setdefault(name, value)
    return True


def start_ray(cpus: int | None = None, **options: Any) -> Any:
    """``ray.init`` of a Ray on this machine (or of the cluster ``RAY_ADDRESS`` names).

    Args:
        cpus: CPUs a local Ray offers (default: the machine's).
        options: more ``ray.init`` arguments.
    """
    local = keep_ray_on_this_machine() if "ray" not in sys.modules else False
    import ray

    if ray.is_initialized():
        return None
    if local:
        options = {"num_cpus": cpus, "include_dashboard": False, **options}
    return ray.init(**{"log_to_driver": False, **options})


def start_spark(tasks: int, app_name: str = "orq-embeddings", **conf: str) -> SparkSession:
    """A Spark session on this machine running ``tasks`` tasks at once, on 127.0.0.1 only.

    Args:
        conf: more Spark settings (``spark.sql.shuffle.partitions``, ...).
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.default.parallelism": str(tasks),
        "spark.sql.shuffle.partitions": str(tasks),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **conf,
    }
    builder = SparkSession.builder.master(f"local[{tasks}]").appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
