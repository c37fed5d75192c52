"""The sentences of 歙民〔2024〕57号 that the plugin implements, quoted verbatim.

Every rule of the plugin points at one of these (its ``source``); docs/plugins/shexian.md maps each
to its code and its test, and tests/plugins/test_shexian.py checks each is in the seed verbatim.
"""

DOC = "歙民〔2024〕57号"
TITLE = "《关于低收入人口“一次申请、分类审核认定”的实施方案》"
DOCUMENT = f"{DOC}{TITLE}"
SEED = "shexian-2024-one-application-classified-review.txt"

ONE_APPLICATION = ("实现低收入人口“一次申请受理、一次承诺授权、一次审核认定、分类实施救助”，即申请对象提出一次申请，"
                   "社会救助审核确认机关根据其家庭收支情况、财产状况、困难程度等，分别确认为特困人员、最低生活保障对象、"
                   "低保边缘家庭、刚性支出困难家庭、其他低收入人口和临时救助对象")
MERGED_FORM = ("困难群众申请救助时，工作人员需指导其填写归并整合后的低收入人口申请认定等相关表格，"
               "一次性完成申请人资料受理、共同生活家庭成员及法定供养义务人家庭成员基本信息采集（身份证、户口本等）、"
               "家庭经济状况核查授权及承诺等相关材料等事项。")
ACCEPT = "对材料齐全、符合要求的申请及时予以受理，对材料不齐备的一次性书面告知其需要补充的材料。"
PLATFORM = "可以通过国家或地方政务服务平台查询获取的相关材料，不再要求重复提交。"
WARNING = "对预警信息要加强线下核查，5个工作日内处置社会救助大数据信息系统“预警监测”模块中的预警信息。"
ASSESS = "针对困难群众提出的申请，根据其家庭经济状况调查结果进行综合研判"
ORDER = ("审核确认机关应当在征得申请人同意后，主动按照“特困人员”、“最低生活保障对象”、“低保边缘家庭”、"
         "“刚性支出困难家庭”、“其他低收入人口”、“临时救助”的认定顺序逐类进行审核确认")
INITIAL_OPINION = "原则上应当自受理之日起7个工作日内提出初核意见。"
MEETING = "社会救助审核确认机关组织召开联审联批会议，全面审核相关材料，并提出审核确认意见。"
LIMIT = "社会救助审核确认工作应当自受理之日起15个工作日内完成；特殊情况下，可以延长至25个工作日。"
BENEFITS = ("对于确认的特困人员、最低生活保障对象，从确认之日下月起发放保障金，"
            "并应当在3个工作日内按照该申请对象审核确认的人均月补助标准发放临时救助金。")
ENTRY = "低保边缘家庭、刚性支出困难家庭和其他低收入人口，应当在5个工作日内录入社会救助大数据信息系统"
REFERRAL = "对审核不符合民政领域社会救助条件的，及时依据困难类型和救助需求线下分类推送至相应社会救助管理部门。"

#: every quoted rule sentence, for the verbatim check
RULES = (ONE_APPLICATION, MERGED_FORM, ACCEPT, PLATFORM, WARNING, ASSESS, ORDER, INITIAL_OPINION, MEETING, LIMIT,
         BENEFITS, ENTRY, REFERRAL)
