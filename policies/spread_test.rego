package house_test.spread

import data.main

deploy(replicas, pod_spec) := [{"path": "r.yaml", "contents": {"kind": "Deployment", "metadata": {"name": "api", "labels": {"environment": "prod"}}, "spec": {"replicas": replicas, "template": {"spec": pod_spec}}}}]

spread := {"containers": [], "topologySpreadConstraints": [{"topologyKey": "kubernetes.io/hostname", "maxSkew": 1}]}

warnings(doc) := {r | some r in main.warn with input as doc; r.rule == "spread-across-nodes"}

test_spread_deployment_passes if {
	count(warnings(deploy(2, spread))) == 0
}

test_unspread_deployment_warns if {
	some r in warnings(deploy(3, {"containers": []}))
	r.field == "spec.template.spec.topologySpreadConstraints"
}

test_single_replica_is_not_checked if {
	count(warnings(deploy(1, {"containers": []}))) == 0
}
