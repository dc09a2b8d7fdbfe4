"""What the Ray and Spark engines share: one rate budget, row errors, parts on disk, resuming.

``orq_embeddings.ray`` and ``orq_embeddings.spark`` are the public faces; this layer holds what
does not depend on either engine, and imports neither (a module that needs pyarrow imports it
itself, as the engines' extras bring it):

- ``rate_window``: a whole job's rolling windows, granted as time stamps (a Ray actor holds one);
- ``budget``: the rule that splits a budget over the tasks that run at once, and its checks;
- ``client_spec``: what a worker builds its client from, without the key;
- ``row_errors``: embedding rows so that a row that cannot be embedded says why instead of
  failing its batch;
- ``parts``: an output directory of parquet parts, each written whole or not at all;
- ``job``: resuming by id, the counting pass over the ids, and what a job reports.
"""
