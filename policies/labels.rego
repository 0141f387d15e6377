# required-labels: every object and every pod template carries
# app.kubernetes.io/name and app.kubernetes.io/part-of (the platform's name).
package main

import data.lib.k8s

required_labels := ["app.kubernetes.io/name", "app.kubernetes.io/part-of"]

deny contains k8s.result("required-labels", obj, "metadata.labels", msg) if {
	some obj in k8s.objects
	some label in required_labels
	not k8s.labels(obj)[label]
	msg := sprintf("%s %s has no %s label", [obj.kind, obj.metadata.name, label])
}

deny contains k8s.result("required-labels", obj, sprintf("%s.labels", [k8s.pod_meta_path(obj)]), msg) if {
	some obj in k8s.templated_workloads
	some label in required_labels
	not object.get(k8s.pod_template(obj), ["metadata", "labels", label], false)
	msg := sprintf("the pod template of %s %s has no %s label", [obj.kind, obj.metadata.name, label])
}

deny contains k8s.result("required-labels", obj, "metadata.labels", msg) if {
	some obj in k8s.objects
	value := k8s.labels(obj)["app.kubernetes.io/part-of"]
	value != data.house.part_of
	msg := sprintf("%s %s is part-of %q, not %q", [obj.kind, obj.metadata.name, value, data.house.part_of])
}
