/*-------------------------------------------------------------------------
 *
 * role_login.c
 *	  Whether a role may have its pipelines run in a database.
 *
 * The scheduler runs a role's pipelines in a session logged in as that
 * role, as pg_cron runs a job, and so only for a role that could log in:
 * a DBA who disables a departing user's role (NOLOGIN, an expired VALID
 * UNTIL, a revoked CONNECT) stops that role's pipelines too.  A background
 * worker's login checks only LOGIN and the connection limit, so the rest
 * is checked here, by the launcher before it starts a worker and by the
 * worker whenever it re-reads its pipelines (at once when the role or the
 * database changes, and every few seconds).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "scheduler/role_login.h"

bool
RoleMayLogIn(Oid databaseId, Oid roleId, char **reason)
{
	HeapTuple	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleId));
	Form_pg_authid form;
	char	   *roleName;
	bool		isNull;
	Datum		validUntil;
	char	   *why = NULL;

	if (!HeapTupleIsValid(tuple))
	{
		if (reason != NULL)
			*reason = psprintf("The role with OID %u that owns them was dropped.", roleId);
		return false;
	}

	form = (Form_pg_authid) GETSTRUCT(tuple);
	roleName = pstrdup(NameStr(form->rolname));
	validUntil = SysCacheGetAttr(AUTHOID, tuple, Anum_pg_authid_rolvaliduntil, &isNull);

	if (!form->rolcanlogin)
		why = psprintf("Role \"%s\" does not have the LOGIN attribute.", roleName);
	else if (!isNull && DatumGetTimestampTz(validUntil) < GetCurrentTimestamp())
		why = psprintf("The login of role \"%s\" expired at %s (VALID UNTIL).", roleName,
					   timestamptz_to_str(DatumGetTimestampTz(validUntil)));
	ReleaseSysCache(tuple);

	if (why == NULL &&
		pg_database_aclcheck(databaseId, roleId, ACL_CONNECT) != ACLCHECK_OK)
		why = psprintf("Role \"%s\" does not have the CONNECT privilege on the database.",
					   roleName);

	if (why != NULL && reason != NULL)
		*reason = why;
	return why == NULL;
}
