"""The apply_patch engine in parts; `codex.tools.apply_patch` is its public face."""
