/*-------------------------------------------------------------------------
 *
 * login_settings.h
 *	  Whether the settings a new login of a worker's role would get have
 *	  changed since the worker logged in.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_LOGIN_SETTINGS_H
#define INCREMENTAL_LOGIN_SETTINGS_H

/*
 * Remembers the settings that ALTER ROLE ... SET and ALTER DATABASE ...
 * SET stored for the session's login, as the login applied them.  Call it
 * once, right after logging in, in a transaction.
 */
extern void RememberLoginSettings(void);

/*
 * True when those stored settings differ from what the login applied: the
 * session no longer has the settings a new login would get.  Reads the
 * catalog only when an ALTER ROLE/DATABASE ... SET was committed since the
 * last look, unless evenIfNotCounted.  Needs a transaction.
 */
extern bool LoginSettingsChanged(bool evenIfNotCounted);

#endif							/* INCREMENTAL_LOGIN_SETTINGS_H */
