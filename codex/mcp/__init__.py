"""``codex mcp``: codex served as an MCP server over stdio, a face like ``codex.cli``.

The engine never imports this package. The other direction, MCP servers whose tools codex
offers to the model, is engine-side: ``codex.tools.mcp_client``.
"""
