package house_test.labels

import data.main

labelled := {"app.kubernetes.io/name": "api", "app.kubernetes.io/part-of": "ai-agents"}

deployment(meta_labels, pod_labels) := {"kind": "Deployment", "metadata": {"name": "api", "labels": meta_labels}, "spec": {"template": {"metadata": {"labels": pod_labels}, "spec": {"containers": []}}}}

combined(obj) := [{"path": "rendered.yaml", "contents": obj}]

test_labelled_objects_pass if {
	count(main.deny) == 0 with input as combined(deployment(labelled, labelled))
		with data.house.part_of as "ai-agents"
}

test_missing_object_label_is_denied if {
	some result in main.deny with input as combined(deployment({"app.kubernetes.io/part-of": "ai-agents"}, labelled))
		with data.house.part_of as "ai-agents"
	result.rule == "required-labels"
	result.field == "metadata.labels"
	contains(result.msg, "app.kubernetes.io/name")
}

test_missing_pod_template_label_is_denied if {
	some result in main.deny with input as combined(deployment(labelled, {"app": "api"}))
		with data.house.part_of as "ai-agents"
	result.field == "spec.template.metadata.labels"
}

test_wrong_part_of_is_denied if {
	some result in main.deny with input as combined(deployment(
		{"app.kubernetes.io/name": "api", "app.kubernetes.io/part-of": "other"},
		labelled,
	))
		with data.house.part_of as "ai-agents"
	contains(result.msg, "\"other\"")
}
