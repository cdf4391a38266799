"""``memrestore app``: restore photos in the browser, on this machine, with the packaged models.

``batch`` holds what a request does (restore uploads, previews, zoom, zip), with no web framework;
``ui`` lays it out in Gradio, an optional dependency (``pip install 'memrestore[app]'``).
"""
