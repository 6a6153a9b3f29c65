"""What staff and members read for an audit action: one Japanese label for every
action code the portal records.

Most codes are fixed strings. Two families are built from a procedure kind: the
office work queue's `backoffice.<kind>.<action>` and a contract change's
`<kind>.completed`; their labels are built from the procedure's own label.
"""
from __future__ import annotations

from portal.procedures.models import KIND_LABELS

ACTION_LABELS = {
    # staff console
    "staff.login": "スタッフログイン",
    "staff.login_failed": "スタッフログイン失敗",
    "staff.logout": "スタッフログアウト",
    "staff.member_search": "組合員検索",
    "staff.member_open": "組合員情報の閲覧",
    "staff.user_create": "スタッフ作成",
    "staff.user_disable": "スタッフ無効化",
    "staff.user_enable": "スタッフ有効化",
    "staff.totp_reset": "TOTPの再発行",
    "impersonation.start": "代理操作の開始",
    "impersonation.request": "代理操作中の画面操作",
    "impersonation.end": "代理操作の終了",
    "audit.export": "監査ログのCSV出力",
    # members' sign-in and account security
    "member.signup": "マイページ登録",
    "member.login": "ログイン",
    "member.login_code": "確認コードでのログイン",
    "member.login_passkey": "パスキーでのログイン",
    "member.reauthenticated": "本人確認（再認証）",
    "member.password_change": "パスワード変更",
    "member.password_reset": "パスワード再設定",
    "member.session_end": "ログイン中の端末のログアウト",
    "member.sessions_end_others": "ほかの端末すべてのログアウト",
    "member.device_forget": "記憶した端末の削除",
    "passkey.register": "パスキー登録",
    "passkey.rename": "パスキーの名前変更",
    "passkey.remove": "パスキー削除",
    # registered details
    "profile.address_change": "住所変更",
    "profile.property_move_applied": "住まいる共済の所在地変更（転居日）",
    "profile.phone_change": "電話番号変更",
    "profile.email_change_requested": "メールアドレス変更の申込",
    "profile.email_change": "メールアドレス変更",
    "profile.bank_account_change_requested": "振替口座変更の申込",
    "profile.bank_account_change_completed": "振替口座変更の完了",
    "profile.bank_account_change_returned": "振替口座変更の差し戻し",
    "profile.notification_settings": "お知らせ方法の変更",
    # contract changes and requests
    "contract.cancellation_requested": "解約の申出",
    "contract.beneficiary_change_requested": "死亡共済金受取人変更の申出",
    "enrollment.cooling_off_requested": "クーリング・オフの申出",
    "member.withdrawal_requested": "脱退の申出",
    "member.proxy_claimant_requested": "指定代理請求人の指定の申出",
    "member.name_change_requested": "氏名変更の申出",
    "enrollment.submit": "加入申込",
    "enrollment.declaration_view": "告知内容の閲覧",
    "certificate.mail_requested": "掛金証明書の郵送申込",
    "certificate.pdf_issued": "掛金証明書のPDF発行",
    # claims
    "claims.filed": "共済金の請求",
    "claims.damage_reported": "損害の報告",
    "claims.paper_forms": "請求書類（書面）の申込",
    "claims.files_added": "請求書類の追加",
    "claims.withdrawn": "請求の取り下げ",
    "claims.visit_proposed": "訪問日時の提案",
    "claims.visit_answered": "訪問日時の回答",
    "claims.checking": "請求内容の確認開始",
    "claims.documents_requested": "書類の追加依頼",
    "claims.documents_complete": "書類の確認完了",
    "claims.assessed": "支払額の査定",
    "claims.first_approval": "一次承認",
    "claims.approved": "支払の承認",
    "claims.declined": "お支払いできない旨の決定",
    "claims.staff_view": "請求内容の閲覧",
    "claims.file_view": "請求書類の表示",
    "claims.staff_file_view": "請求書類の閲覧（スタッフ）",
    "claims.run_created": "支払データの作成",
    "claims.run_downloaded": "支払データのダウンロード",
    "claims.run_sent": "支払データの送信",
    "claims.run_cancelled": "支払データの取り消し",
    # office work queue
    "backoffice.view": "事務処理の閲覧",
    "backoffice.file_view": "添付書類の閲覧",
    "backoffice.claim": "事務処理の担当",
    "backoffice.release": "事務処理の担当解除",
    "backoffice.phone_intake": "電話での受付の登録",
    "backoffice.certificate_csv_import": "証書発送CSVの取り込み",
    "backoffice.contract_certificate.csv_shipped": "契約証書の発送（CSV）",
    "backoffice.kit_orders_csv": "キット注文CSVの出力",
    # shop
    "shop.order": "健康チェックキットの注文",
    "shop.order_cancel": "健康チェックキットの注文の取消",
    "shop.order_refund": "取り消した注文への支払いの返金",
    "shop.subscribe": "定期コースの申込",
    "shop.subscription_skip": "定期コースの次回お届けのスキップ",
    "shop.subscription_cancel": "定期コースの解約",
    # voices and improvements
    "voice.submitted": "ご意見の受付",
    "voice.registered": "ご意見の登録（スタッフ）",
    "voice.inbox_viewed": "ご意見一覧の閲覧",
    "voice.viewed": "ご意見の閲覧",
    "voice.status_changed": "ご意見の状況変更",
    "voice.assigned": "ご意見の担当割り当て",
    "voice.note_added": "ご意見へのメモ追加",
    "voice.replied": "ご意見への回答",
    "voice.item_linked": "改善項目との関連付け",
    "voice.report_viewed": "ご意見報告書の閲覧",
    "voice.report_exported": "ご意見報告書の出力",
    "voice.exported": "ご意見のCSV出力",
    "improvement_item.created": "改善項目の作成",
    "improvement_item.updated": "改善項目の更新",
    "improvement_item.viewed": "改善項目の閲覧",
    # help and tips
    "inquiry.submitted": "お問い合わせの受付",
    "inquiry.replied": "お問い合わせへの返信（組合員）",
    "inquiry.answered": "お問い合わせへの回答",
    "faq.saved": "よくあるご質問の保存",
    "tip.create": "記事の作成",
    "tip.update": "記事の更新",
    "tip.restore_revision": "記事の版の復元",
    "tip.publish": "記事の公開",
    "tip.schedule": "記事の公開予約",
    "tip.unschedule": "記事の公開予約の取り消し",
    "tip.reopen": "記事の下書きへの戻し",
    "tip.archive": "記事のアーカイブ",
    "tip_category.create": "記事カテゴリの作成",
}

# The office work queue's actions (`portal.workqueue.kinds.Action.name`).
OFFICE_ACTION_LABELS = {
    "accept": "承認",
    "approve": "成立",
    "complete": "完了",
    "decline": "不成立",
    "mailed": "郵送済み",
    "printed": "印刷済み",
    "rerate": "掛金改定",
    "return": "差し戻し",
    "review": "審査開始",
    "send": "発送済み",
    "shipped": "発送済み",
}


def action_label(code: str) -> str:
    """The Japanese label of an action code; an unknown code is shown as it is."""
    if code in ACTION_LABELS:
        return ACTION_LABELS[code]
    parts = code.split(".")
    if len(parts) == 3 and parts[0] == "backoffice" and parts[1] in KIND_LABELS \
            and parts[2] in OFFICE_ACTION_LABELS:
        return f"事務処理：{KIND_LABELS[parts[1]]}（{OFFICE_ACTION_LABELS[parts[2]]}）"
    if len(parts) == 2 and parts[1] == "completed" and parts[0] in KIND_LABELS:
        return f"{KIND_LABELS[parts[0]]}の完了"
    return code

