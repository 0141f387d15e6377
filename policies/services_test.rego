package house_test.services

import data.main

service(type, env) := [{"path": "r.yaml", "contents": {"kind": "Service", "metadata": {"name": "api", "labels": {"environment": env, "app.kubernetes.io/name": "api", "app.kubernetes.io/part-of": "ai-agents"}}, "spec": {"type": type}}}]

exposure(input_doc) := {r | some r in main.deny with input as input_doc with data.house.part_of as "ai-agents"; r.rule == "service-exposure"}

test_load_balancer_in_prod_is_denied if {
	some r in exposure(service("LoadBalancer", "prod"))
	r.field == "spec.type"
}

test_node_port_in_prod_is_denied if {
	count(exposure(service("NodePort", "prod"))) == 1
}

test_cluster_ip_in_prod_and_node_port_in_dev_pass if {
	count(exposure(service("ClusterIP", "prod"))) == 0
	count(exposure(service("NodePort", "dev"))) == 0
}
