"""A fresh process opens a store built by the test process and runs every scenario on it.

``python -m tests.stores.reopen '<json>'``, where the JSON names the adapter, the kind of store,
its location and the two gateways' URLs; prints every outcome as one JSON object.
"""

from __future__ import annotations

import json
import sys

from tests.support.space_scenarios import Urls, every_outcome
from tests.support.store_homes import embeddings_factory, home_for


def main(argument: str) -> None:
    asked = json.loads(argument)
    home = home_for(asked["adapter"], asked["kind"], asked["location"])
    try:
        found = every_outcome(home, embeddings_factory(asked["adapter"]), Urls(**asked["urls"]))
    finally:
        home.close()
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1])
