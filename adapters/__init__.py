"""Front ends: each translates one platform's payloads into the core's types and renders
the core's Reply in that platform's idiom. No triage logic lives here."""
