/*
 * settings.c - the receiver's built-in settings (see serve.h), apart from
 * the server so that the configuration can fill them in every program
 * without linking HTTP or JSON.
 */
#include "serve/serve.h"

#include <string.h>

void
serve_settings_defaults(struct serve_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->dedupe_window = 86400;
	s->log_format = SERVE_LOG_TEXT;
	s->max_connections = 1024;
	s->max_connections_per_ip = 64;
	s->connection_timeout = 10;
}
