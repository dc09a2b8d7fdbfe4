"""The transport: moving bytes, and the only place in the client that imports an HTTP library.

Each transport posts a body and hands back status, headers and body, within one attempt's
deadline, and maps its library's failures onto the core's typed errors.
"""
