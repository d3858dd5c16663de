-- One deployment at a time per application and environment: the portal's dispatch never moves a
-- second request of the same target into provisioning or deploying while one is (a pipeline that
-- deploys itself reports its own progress and is not held).
create unique index requests_one_in_flight_idx on requests (application_id, environment_id)
    where state in ('provisioning', 'deploying') and self_deploy = 0;
