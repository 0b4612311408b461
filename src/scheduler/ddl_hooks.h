/*-------------------------------------------------------------------------
 *
 * ddl_hooks.h
 *	  Keeping the scheduler out of the way of database-level DDL, and
 *	  noticing CREATE EXTENSION and CREATE DATABASE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCREMENTAL_DDL_HOOKS_H
#define INCREMENTAL_DDL_HOOKS_H

extern void InstallDdlHooks(void);

#endif							/* INCREMENTAL_DDL_HOOKS_H */
