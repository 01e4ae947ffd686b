/* migrate--1.0--1.1.sql: upgrade migrate from 1.0 to 1.1 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrate UPDATE TO '1.1'" to load this file. \quit

-- 1.0 is released and migrate--1.0.sql never changes again.  Every change
-- of the SQL surface since goes here (and later into 1.1--1.2, ...).  A
-- fresh CREATE EXTENSION runs migrate--1.0.sql and then this script, so a
-- fresh install and an upgraded one are built by the same statements;
-- test/scenario/upgrade.sh checks that they end up identical.
--
-- Each section below says which change it belongs to.
