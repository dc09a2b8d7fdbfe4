"""The transport: moving bytes, and the only place in the client that imports an HTTP library.

Each transport posts a body and hands back status, headers and body within one attempt's
deadline, mapping its library's failures onto the core's typed errors (:mod:`.base` is the seam,
:mod:`.factory` picks one). requests carries sync calls, httpx async ones, and a caller's own
client either; :mod:`.internals` holds every private name of another library touched here.
"""
