"""``python -m assistant`` opens the app (or runs a CLI command when given one)."""

from assistant.app import main

raise SystemExit(main())
