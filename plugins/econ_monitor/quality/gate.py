from dataclasses import dataclass, field

@dataclass
class GateOutcome:
    withheld_domains: list = field(default_factory=list)
    def as_dict(self):
        return {"status": "passed", "withheld_domains": self.withheld_domains, "failed_critical": 0, "failed_warning": 0}

def run_gate(conn, run_id):
    return GateOutcome()
