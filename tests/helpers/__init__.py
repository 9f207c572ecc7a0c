"""Helpers the tests share: a real TensorBoard server, a browser, a synthetic sweep."""
