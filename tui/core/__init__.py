"""The domain core: pure Python, asyncio and the standard library only.

Nothing here may import textual or rich; a test enforces it, so that the runner,
`history --json` and the dashboard share one engine.
"""
