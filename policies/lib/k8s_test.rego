package lib.k8s_test

import data.lib.k8s

deployment := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {
	"initContainers": [{"name": "init"}],
	"containers": [{"name": "a"}, {"name": "b"}],
}}}}

test_objects_from_combined_input if {
	objs := k8s.objects with input as [{"path": "x.yaml", "contents": deployment}, {"path": "x.yaml", "contents": "text"}]
	objs == {deployment}
}

test_objects_from_a_single_document if {
	k8s.objects with input as deployment == {deployment}
}

test_containers_include_init_containers if {
	k8s.containers(deployment) == [["initContainers", 0, {"name": "init"}], ["containers", 0, {"name": "a"}], ["containers", 1, {"name": "b"}]]
}

test_cronjob_template_path if {
	k8s.template_path({"kind": "CronJob"}) == "spec.jobTemplate.spec.template"
}

test_a_pod_is_its_own_template if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
	k8s.containers(pod) == [["containers", 0, {"name": "c"}]]
	k8s.pod_spec_path(pod) == "spec"
	k8s.pod_meta_path(deployment) == "spec.template.metadata"
	k8s.workloads with input as pod == {pod}
	count(k8s.templated_workloads) == 0 with input as pod
}
