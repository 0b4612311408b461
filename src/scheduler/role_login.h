/*-------------------------------------------------------------------------
 *
 * role_login.h
 *	  Whether a role may have its pipelines run in a database.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_ROLE_LOGIN_H
#define INCREMENTAL_ROLE_LOGIN_H

/*
 * True when the role could log in to the database now: it exists, has
 * LOGIN, its VALID UNTIL has not passed, and it may CONNECT to the
 * database.  Otherwise *reason (when not NULL) says which, as a sentence
 * for errdetail.  Needs a transaction.
 */
extern bool RoleMayLogIn(Oid databaseId, Oid roleId, char **reason);

#endif							/* INCREMENTAL_ROLE_LOGIN_H */
