"""The wire protocol, sans-IO: what goes on the wire and what comes back, as pure functions.

Request bodies per dialect, input checks, batching by count and bytes, response bodies decoded
within limits, read into vectors in input order or into a typed error. Nothing here opens a
socket or imports an HTTP library, so every edge case is a fast unit test.
"""
