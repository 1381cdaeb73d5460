-- scfrisk update script 0.1.0 -> 0.2.0: the registry's history table.  Its
-- functions and procedures are replaced from sql/install/60_registry.sql itself
-- (replace-objects: CREATE OR REPLACE keeps the OIDs, so grants made by the
-- administrator survive), then the privileges are set as a fresh install sets
-- them (test/security checks that an updated and a fresh install agree).

-- the history records retrains that gave the deployed bytes again
ALTER TABLE scfrisk.registry_history DROP CONSTRAINT registry_history_action_check;
ALTER TABLE scfrisk.registry_history ADD CONSTRAINT registry_history_action_check
	CHECK (action IN ('save', 'deploy', 'rollback', 'retire', 'register',
								  'retrain', 'promote', 'keep', 'unchanged'));

