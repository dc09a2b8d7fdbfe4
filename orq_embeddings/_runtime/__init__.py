"""The runtime: what runs a call once the wire protocol has said what to send.

Resources shared by a client and its copies (pools per loop and per process, worker threads,
in-flight slots), the retry policy, pacing against rate limits, the look-ahead window and batch
splitting. It reaches the network only through :mod:`orq_embeddings._transport`'s protocol.
"""
