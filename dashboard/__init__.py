"""The nurse-station dashboard: FastAPI app, JSON API, websocket hub and the static station page."""
