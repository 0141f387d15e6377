package house_test.rollout

import data.main

deploy(env, strategy) := [{"path": "r.yaml", "contents": {"kind": "Deployment", "metadata": {"name": "api", "labels": {"environment": env}}, "spec": {"strategy": strategy, "template": {"spec": {"containers": []}}}}}]

rollout(doc) := {r | some r in main.deny with input as doc with data.house.part_of as "x"; r.rule == "rollout-max-unavailable"}

test_max_unavailable_zero_passes if {
	count(rollout(deploy("prod", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}))) == 0
}

test_default_strategy_is_denied_in_prod if {
	some r in rollout(deploy("prod", {}))
	r.field == "spec.strategy.rollingUpdate.maxUnavailable"
	contains(r.msg, "25%")
}

test_recreate_is_denied_in_prod if {
	some r in rollout(deploy("prod", {"type": "Recreate"}))
	r.field == "spec.strategy"
}

test_dev_is_not_checked if {
	count(rollout(deploy("dev", {"type": "Recreate"}))) == 0
}
