"""Tests of codex's MCP server (`codex mcp`) and MCP client (`[mcp_servers]`)."""
