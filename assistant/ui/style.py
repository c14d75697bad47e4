"""The app's style sheet: pane titles, cards, bubbles, the notification bar, primary buttons."""

STYLE = """
#PaneTitle { font-size: 15px; font-weight: 600; padding: 2px 0 4px 0; }
#Muted { color: #6a737d; }
#ViewerTitle { padding-left: 6px; }
QPushButton#Primary {
    background: #2f6feb; color: white; border: 1px solid #255fd0; border-radius: 4px;
    padding: 5px 14px; font-weight: 600;
}
QPushButton#Primary:hover { background: #255fd0; }
QPushButton#Primary:pressed { background: #1f4fb0; }
QPushButton#Primary:disabled { background: #9db8ef; border-color: #9db8ef; }
#ChatView { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; }
#ChatPlaceholder { background: #f6f8fa; border: 1px dashed #c4ccd4; border-radius: 6px;
    color: #24292e; padding: 16px; }
#EmptyState { background: #f6f8fa; border: 1px dashed #c4ccd4; border-radius: 6px; }
#SourcesPlaceholder { background: #f6f8fa; border: 1px dashed #c4ccd4; border-radius: 6px;
    color: #24292e; padding: 12px; }
#SourceCard { background: #ffffff; border: 1px solid #d0d7de; border-radius: 8px; }
#SourceCard[answer="true"] { border: 1px solid #e0b400; }
#QuestionInput { padding: 6px; font-size: 14px; }
#Notification { border-radius: 6px; padding: 2px; }
#Notification[level="info"] { background: #e8f1ff; border: 1px solid #b6d4fe; }
#Notification[level="warning"] { background: #fff8e1; border: 1px solid #f0d58c; }
#Notification[level="error"] { background: #fdecea; border: 1px solid #f5c2c0; }
"""
