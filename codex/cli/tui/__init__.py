"""The interactive terminal face: ``codex [PROMPT]``.

Nothing here may be imported by ``codex exec`` or ``codex mcp``: the interactive command imports
this package inside its callback. Start-up is a feature (the prompt accepts keys before the
engine is loaded), so modules import only the standard library at import time; rich is loaded
lazily, the first time Markdown or code has to be rendered.

- ``keys``: raw terminal bytes -> key events (escape sequences, bracketed paste, UTF-8)
- ``editor``: the input line (multi-line editing, history, completion) and its layout
- ``text``: cell widths, ANSI-aware fitting, the palette (NO_COLOR aware)
- ``markdown``: rich-rendered Markdown, committed block by block while a message streams
- ``render``: events -> lines (header, commands, diffs, plan, token usage); escape stripping
- ``approvals``: the approval question, its keys, and the line recording the answer
- ``screen``: the terminal: raw mode, scrollback above, a redrawn live area at the bottom
- ``slash``: ``/model`` ``/approvals`` ``/status`` ``/diff`` ``/new`` ``/resume`` ``/compact`` ...
- ``workspace``: files for @-completion, the git diff for /diff
- ``bridges``: provider start-up (``--oss``) questions and progress, stray stderr, into the loop
- ``app``: the loop that ties keys, the session's events and the screen together
- ``preload``: once the session is ready, a background thread imports what the first turn needs
  (httpx2, the wire module, the tools' schemas) while the person types; ``CODEX_TUI_PRELOAD=0``
  turns it off
- ``command``: the click command; draws the first frame before anything heavy is imported
"""
