package i18n

// Messages of the provision workflow (internal/provision): 제3자 제공 and
// 목적 외 이용, their legal bases (개인정보 보호법 제18조 제2항, the Act's
// wording in Korean), errors and the provisions page.
func init() {
	add(map[string]Message{
		// 개인정보 보호법 제18조 제2항 (item 4 deleted 2020-02-04).
		"provision.basis.1": {"정보주체로부터 별도의 동의를 받은 경우", "with the data subject's separate consent"},
		"provision.basis.2": {"다른 법률에 특별한 규정이 있는 경우", "where another Act specifically provides for it"},
		"provision.basis.3": {"명백히 정보주체 또는 제3자의 급박한 생명, 신체, 재산의 이익을 위하여 필요하다고 인정되는 경우",
			"where clearly necessary for the urgent life, body or property interests of the data subject or a third party"},
		"provision.basis.5": {"개인정보를 목적 외의 용도로 이용하거나 이를 제3자에게 제공하지 아니하면 다른 법률에서 정하는 소관 업무를 수행할 수 없는 경우로서 보호위원회의 심의·의결을 거친 경우",
			"where a duty under another Act cannot be performed otherwise, after deliberation and resolution of the Personal Information Protection Commission"},
		"provision.basis.6":  {"조약, 그 밖의 국제협정의 이행을 위하여 외국정부 또는 국제기구에 제공하기 위하여 필요한 경우", "where necessary to provide it to a foreign government or international organisation to implement a treaty or other international agreement"},
		"provision.basis.7":  {"범죄의 수사와 공소의 제기 및 유지를 위하여 필요한 경우", "where necessary for the investigation of a crime and the institution and maintenance of a prosecution"},
		"provision.basis.8":  {"법원의 재판업무 수행을 위하여 필요한 경우", "where necessary for a court's judicial proceedings"},
		"provision.basis.9":  {"형(刑) 및 감호, 보호처분의 집행을 위하여 필요한 경우", "where necessary to execute a sentence, custody or protective disposition"},
		"provision.basis.10": {"공중위생 등 공공의 안전과 안녕을 위하여 긴급히 필요한 경우", "where urgently necessary for public safety and well-being, such as public health"},

		"provision.kind":         {"제공 구분은 제3자 제공 또는 목적 외 이용이어야 합니다.", "The kind must be provision to a third party or use for another purpose."},
		"provision.basis":        {"제공 근거(개인정보 보호법 제18조제2항의 호)를 골라야 합니다. 근거 없이는 제공할 수 없습니다.", "Choose the legal basis (an item of Article 18(2) of the Personal Information Protection Act): nothing is provided without one."},
		"provision.statute":      {"'다른 법률에 특별한 규정이 있는 경우'에는 그 법률과 조항을 적어야 합니다.", "Where another Act provides for it, name that Act and article."},
		"provision.form":         {"제공 형태는 사본 제공 또는 현장 열람이어야 합니다.", "The form must be a copy or an on-site viewing."},
		"provision.required":     {"{field} 항목을 적어야 합니다.", "Fill in {field}."},
		"provision.field":        {"{field} 항목은 줄바꿈 없이 {max}자 이내여야 합니다.", "{field} must have at most {max} characters and no line breaks."},
		"provision.cameras":      {"카메라를 1대 이상 {max}대 이하로, 겹치지 않게 골라야 합니다.", "Choose between one and {max} different cameras."},
		"provision.range":        {"영상 기간의 끝은 시작보다 뒤여야 합니다.", "The end of the footage range must be after its start."},
		"provision.span":         {"한 건의 영상 기간은 {max}을 넘을 수 없습니다.", "One provision may cover at most {max} of footage."},
		"provision.not_found":    {"해당 제공 건이 없습니다.", "No such provision."},
		"provision.self":         {"자신이 요청한 제공 건은 승인할 수 없습니다. 다른 관리책임자가 승인해야 합니다.", "You may not approve a provision you requested: another manager must approve it."},
		"provision.approver":     {"이 제공 건의 모든 카메라 설치장소에 대한 제공 승인 권한이 없습니다.", "You do not hold the right to approve provisions on every camera's site of this provision."},
		"provision.state":        {"이 제공 건은 지금 상태({state})에서는 그 처리를 할 수 없습니다.", "The provision is {state}: that step is not possible now."},
		"provision.busy":         {"이 제공 건은 지금 제공 처리 중입니다.", "The provision is being produced right now."},
		"provision.package_gone": {"제공 패키지의 보관 기간이 지나 파일이 없습니다. 필요하면 새 제공 건으로 요청하십시오.", "The package is no longer kept; file a new provision if it is needed."},
	})
}
