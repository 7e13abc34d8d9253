DROP TABLE role_grants;
DELETE FROM user_roles WHERE role = 'access_approver';
DELETE FROM roles WHERE name = 'access_approver';
