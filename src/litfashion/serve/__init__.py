"""``litfashion serve``: a trained classifier behind LitServe, with a web page at ``/`` (README, "Serve a trained
model"). The pieces: what is served (``model``), how an upload becomes the network's input (``preprocessing``),
the checks an upload passes before any work (``upload_checks``), the LitAPI (``api``), the page (``page``), the
settings (``settings``) and the server built from them (``server``)."""
